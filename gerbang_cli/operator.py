"""Operator commands over the admin API: `fleet`, `export`, `issue`.

Dates and names are converted here, in the CLI: `export --from/--to` take calendar dates in WIB
(the day from 00:00 to 24:00 WIB; --to is included) and the CSV carries area names, reason
names and texts, and WIB times next to the raw values the server stores.
"""

from __future__ import annotations

import csv
import os
import sys
from datetime import date, datetime
from typing import Any

import click

from .api import Api
from .errors import failed, refused
from .messages import add, lang, t
from .qr import WIB, wib

PAGE = 1000

add({
    "help.fleet": ("ringkasan armada per area: unit, umur sinkron (basi ditandai), daftar kunci, tunggakan",
                   "the fleet per area: units, last sync age (stale flagged), trust list, backlog"),
    "help.export": ("ekspor keputusan pindai sebagai CSV (tanggal WIB, nama area dan alasan)",
                    "export scan decisions as CSV (WIB dates, area and reason names)"),
    "help.issue": ("terbitkan sertifikat untuk area dan tulis kartu cetak (PNG dan PDF)",
                   "issue a certificate for an area and write its printable card (PNG and PDF)"),
    "opt.from": ("tanggal awal (WIB), mis. 2026-12-01", "first day (WIB), e.g. 2026-12-01"),
    "opt.to": ("tanggal akhir (WIB), ikut dihitung", "last day (WIB), included"),
    "opt.device": ("hanya unit ini", "only this device"),
    "opt.decision": ("hanya allow atau deny", "only allow or deny"),
    "opt.csv_out": ("berkas CSV (bawaan: standard output)", "CSV file (default: standard output)"),
    "opt.category": ("kategori: 1 vaksinasi, 2 sembuh, 3 tes negatif, 4 pengecualian medis, 5 staf",
                     "category: 1 vaccination, 2 recovery, 3 negative test, 4 medical exemption, 5 staff"),
    "opt.doses": ("jumlah dosis (0..15)", "number of doses (0..15)"),
    "opt.days": ("masa berlaku dalam hari (1..30)", "validity in days (1..30)"),
    "opt.card_out": ("berkas kartu .png atau .pdf (boleh diulang; bawaan: keduanya)",
                     "card file .png or .pdf (repeatable; default: both)"),
    "date.bad": ("tanggal {value!r} tidak sah: tulis YYYY-MM-DD, mis. 2026-12-01",
                 "date {value!r} is not valid: write YYYY-MM-DD, e.g. 2026-12-01"),
    "date.order": ("--to {to} sebelum --from {frm}", "--to {to} is before --from {frm}"),
    "export.done": ("{n} keputusan ditulis ke {out}", "{n} decisions written to {out}"),
    "fleet.area": ("Area {id} {name}: {n} unit; daftar kunci serial {serial}, kedaluwarsa {expires}",
                   "Area {id} {name}: {n} units; trust list serial {serial}, expires {expires}"),
    "fleet.no_list": ("Area {id} {name}: {n} unit; BELUM ADA daftar kunci",
                      "Area {id} {name}: {n} units; NO trust list yet"),
    "fleet.unit": ("  {id:<14} sinkron {age:<18} serial {serial:<5} tunggakan {backlog:<5} {flag}",
                   "  {id:<14} synced {age:<18} serial {serial:<5} backlog {backlog:<5} {flag}"),
    "fleet.never": ("belum pernah", "never"),
    "fleet.ago": ("{age} lalu", "{age} ago"),
    "fleet.stale": ("BASI", "STALE"), "fleet.fresh": ("segar", "fresh"),
    "fleet.old_list": ("daftar lama", "old list"),
    "fleet.summary": ("{units} unit aktif, {stale} basi; {ok}", "{units} active units, {stale} stale; {ok}"),
    "fleet.ok": ("semua baik", "all good"),
    "fleet.attention": ("perlu perhatian", "needs attention"),
    "issue.done": ("sertifikat area {area} berlaku {nbf} s.d. {exp}; cti {cti}",
                   "certificate for area {area} valid {nbf} until {exp}; cti {cti}"),
    "issue.card": ("kartu: {path} (QR versi {version}-M)", "card: {path} (QR version {version}-M)"),
    "issue.bad_out": ("{path!r}: kartu hanya .png atau .pdf", "{path!r}: a card is .png or .pdf only"),
})


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise refused("date.bad", value=value) from None


def day_start(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=WIB).timestamp())


def age_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def fleet() -> int:
    api = Api()
    areas = api.areas()
    devices = api.get("/devices", state="active")["devices"]
    health = api.get("/fleet")
    now = health["now"]
    stale = {d["id"] for d in health["devices"]["stale"]}
    by_area: dict[int, list[dict]] = {}
    for d in devices:
        by_area.setdefault(d["area"], []).append(d)
    for aid in sorted(areas):
        a = areas[aid]
        units = sorted(by_area.get(aid, []), key=lambda d: d["id"])
        tl = a.get("trustlist")
        if tl:
            click.echo(t("fleet.area", id=aid, name=a["name"], n=len(units), serial=tl["serial"],
                         expires=wib(tl["expires"])))
        else:
            click.echo(t("fleet.no_list", id=aid, name=a["name"], n=len(units)))
        for d in units:
            last = d.get("last_sync_at")
            age = t("fleet.never") if last is None else t("fleet.ago", age=age_text(now - last))
            flag = t("fleet.stale") if d["id"] in stale else t("fleet.fresh")
            if tl and d.get("trust_serial") not in (None, tl["serial"]) and last is not None:
                flag += ", " + t("fleet.old_list")
            backlog = sum(max(0, int(g[1]) - int(g[0]) + 1) for g in d.get("gaps") or []
                          if isinstance(g, list | tuple) and len(g) == 2)
            click.echo(t("fleet.unit", id=d["id"], age=age, serial=d.get("trust_serial") or "-",
                         backlog=backlog, flag=flag))
    click.echo(t("fleet.summary", units=len(devices), stale=len(stale),
                 ok=t("fleet.ok") if health.get("ok") else t("fleet.attention")))
    return 0


CSV_COLUMNS = ["id", "time_wib", "time", "area", "area_name", "device_id", "seq", "decision",
               "reason", "reason_name", "reason_text", "clock", "flags", "kid", "tag",
               "received_at"]


def export(area: int | None, device: str | None, frm: str | None, to: str | None,
           decision: str | None, out: str | None) -> int:
    from gerbang_protocol.reason_text import reason_name, reason_text

    since = day_start(parse_day(frm)) if frm else None
    until = day_start(parse_day(to)) + 86400 if to else None
    if since is not None and until is not None and until <= since:
        raise refused("date.order", to=to, frm=frm)
    api = Api()
    names = {i: a["name"] for i, a in api.areas().items()}
    query: dict[str, Any] = {"format": "json", "limit": PAGE, "area": area, "device": device,
                             "since": since, "until": until, "decision": decision}
    try:
        f = open(out, "w", newline="") if out else sys.stdout
    except OSError as e:
        raise failed("qr.write", path=out, detail=e.strerror) from None
    n = 0
    try:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        after = 0
        while True:
            page = api.get("/scans", **query, after=after)
            for r in page["records"]:
                w.writerow([r["id"], wib_seconds(r["time"]), r["time"], r["area_id"],
                            names.get(r["area_id"], ""), r["device_id"], r["seq"],
                            "allow" if r["decision"] == 1 else "deny", r["reason"],
                            reason_name(r["reason"]), reason_text(r["reason"], lang()),
                            r["clock"], r["flags"], r["kid"], r["tag"], r["received_at"]])
                n += 1
            if not page.get("next_after"):
                break
            after = page["next_after"]
    finally:
        if out:
            f.close()
    if out:
        click.echo(t("export.done", n=n, out=out))
    return 0


def wib_seconds(unix: int) -> str:
    return datetime.fromtimestamp(unix, WIB).strftime("%Y-%m-%d %H:%M:%S")


def issue(area: int, category: int, doses: int, days: int | None, outs: list[str]) -> int:
    from . import qr

    for o in outs:
        if os.path.splitext(o)[1].lower() not in (".png", ".pdf"):
            raise refused("issue.bad_out", path=o)
    api = Api()
    areas = api.areas()
    if area not in areas:
        raise refused("unit.no_area", area=area, areas=", ".join(map(str, sorted(areas))) or "-")
    body: dict[str, Any] = {"category": category, "doses": doses}
    if days is not None:
        body["valid_for"] = days * 86400
    c = api.post(f"/areas/{area}/certificates", body)
    click.echo(t("issue.done", area=area, nbf=wib(c["nbf"]), exp=wib(c["exp"]), cti=c["cti"]))
    if not outs:
        outs = [f"cert-{c['cti'][:8]}.png", f"cert-{c['cti'][:8]}.pdf"]
    name = f"{t('card.area')} {area}: {areas[area]['name']}"
    for o in outs:
        q = qr.write(c["qr"], o, card=True, area_name=name)
        click.echo(t("issue.card", path=o, version=q.version))
    click.echo(c["qr"])
    return 0


def commands() -> list[click.Command]:
    @click.command("fleet", help=t("help.fleet"))
    def fleet_cmd() -> int:
        return fleet()

    @click.command("export", help=t("help.export"))
    @click.option("--area", type=click.IntRange(1, 18), help=t("opt.area"))
    @click.option("--device", help=t("opt.device"))
    @click.option("--from", "frm", metavar="YYYY-MM-DD", help=t("opt.from"))
    @click.option("--to", metavar="YYYY-MM-DD", help=t("opt.to"))
    @click.option("--decision", type=click.Choice(["allow", "deny"]), help=t("opt.decision"))
    @click.option("--out", type=click.Path(dir_okay=False), help=t("opt.csv_out"))
    def export_cmd(area: int | None, device: str | None, frm: str | None, to: str | None,
                   decision: str | None, out: str | None) -> int:
        return export(area, device, frm, to, decision, out)

    @click.command("issue", help=t("help.issue"))
    @click.option("--area", required=True, type=click.IntRange(1, 18), help=t("opt.area"))
    @click.option("--category", type=click.IntRange(1, 5), default=1, show_default=True,
                  help=t("opt.category"))
    @click.option("--doses", type=click.IntRange(0, 15), default=0, show_default=True,
                  help=t("opt.doses"))
    @click.option("--days", type=click.IntRange(1, 30), help=t("opt.days"))
    @click.option("--out", "outs", multiple=True, type=click.Path(dir_okay=False),
                  help=t("opt.card_out"))
    def issue_cmd(area: int, category: int, doses: int, days: int | None,
                  outs: tuple[str, ...]) -> int:
        return issue(area, category, doses, days, list(outs))

    return [fleet_cmd, export_cmd, issue_cmd]
