"""The trust cache at boot (docs/FIRMWARE_CORE.md "The trust cache"): a cache of an older
bundle, another door or another root is rebuilt or refused; staged bundles are installed at
boot; rollback is refused online and at boot; a power cut between the bundle and the cache
leaves a door that boots correctly."""

import os

from fakes import exists as _exists
from fwtest import check, raises, trust_install, trust_load, trust_stage
from gerbang.reasons import NO_TRUST
from gerbang.truststore import TrustStore
from trustcache_fixture import (
    PATH,
    clean,
    copy,
    digest,
    flip,
    golden_fields,
    installed,
    read,
    store,
    without_verification,
    write,
)


def _rollback():
    from gerbang.trustinstall import Rollback  # load-time code: the class, not the module, kept

    return Rollback


def test_cache_of_an_older_bundle_or_another_door_is_rebuilt():
    g = golden_fields()
    st = installed("bundle_older")
    copy(PATH + ".cache", PATH + ".saved")
    check(trust_install(st, bytes.fromhex(g["bundle"]), g["now"]) and st.serial == 5)
    st = None
    newer = digest(PATH + ".cache")
    copy(PATH + ".saved", PATH + ".cache")  # the cache of serial 4 beside bundle serial 5
    os.remove(PATH + ".saved")
    st = store()
    check(trust_load(st, None) and st.source == "bundle" and st.serial == 5)
    check(digest(PATH + ".cache") == newer)
    # a door of another area with this cache and bundle: rebuilt, then refused
    st = store(area=2)
    check(not trust_load(st, None) and st.trust is None and "area" in st.error)
    # another pinned root: the cache does not count, the bundle is refused
    st = TrustStore(PATH, bytes(32), 1)
    check(not trust_load(st, None) and st.trust is None)


def test_rollback_refused_online_and_at_boot():
    g = golden_fields()
    st = installed()
    e = raises(_rollback(), trust_install, st, bytes.fromhex(g["bundle_older"]), g["now"])
    check(e.reason == NO_TRUST and st.serial == 5)
    trust_stage(st, bytes.fromhex(g["bundle_older"]))
    check(_exists(PATH + ".new"))
    st = store()
    check(trust_load(st, None) and st.serial == 5 and "rollback" in st.pending_error)
    check(not _exists(PATH + ".new") and read(PATH) == bytes.fromhex(g["bundle"]))
    # with the cache damaged the held serial is not read from it: the list is opened (its
    # cache rebuilt) and the older staged list is still refused
    trust_stage(st, bytes.fromhex(g["bundle_older"]))
    flip(PATH + ".cache", 3000)
    st = store()
    check(trust_load(st, None) and st.serial == 5 and "rollback" in st.pending_error)
    trust_stage(st, bytes.fromhex(g["bundle"]))  # the same list again: kept, no error
    check(trust_load(st, None) and st.serial == 5 and st.pending_error is None)


def test_staged_bundle_installed_at_boot():
    g = golden_fields()
    st = installed("bundle_older")
    trust_stage(st, bytes.fromhex(g["bundle"]))
    st = store()
    check(trust_load(st, None) and st.serial == 5 and st.pending_error is None)
    check(read(PATH) == bytes.fromhex(g["bundle"]) and not _exists(PATH + ".new"))
    st = store()
    check(without_verification(lambda: trust_load(st, None)) and st.source == "cache")
    # a broken staged bundle is refused and removed; the held list stays
    trust_stage(st, b"\x82\x40\x40")
    check(trust_load(st, None) and st.serial == 5 and st.pending_error)
    check(not _exists(PATH + ".new"))
    # first boot: nothing held yet, the staged list is installed
    clean()
    st = store()
    trust_stage(st, bytes.fromhex(g["bundle"]))
    check(trust_load(st, None) and st.serial == 5 and st.source == "cache")


def test_power_cut_between_bundle_and_cache():
    g = golden_fields()
    installed("bundle_older")
    # cut after the bundle's rename, before the cache's: new bundle, old cache (+ its tmp)
    write(PATH, bytes.fromhex(g["bundle"]))
    copy(PATH + ".cache", PATH + ".cache.tmp", 1000)
    st = store()
    check(trust_load(st, None) and st.source == "bundle" and st.serial == 5)
    st = store()
    check(without_verification(lambda: trust_load(st, None)) and st.serial == 5)
    st = None  # a door holds one list: let this one go before the next install
    # cut before the bundle's rename: old bundle and cache, a partial tmp: old list
    installed("bundle_older")
    write(PATH + ".tmp", bytes.fromhex(g["bundle"])[:200])
    st = store()
    check(without_verification(lambda: trust_load(st, None)) and st.serial == 4)
    # cut while the cache was first written: bundle present, no cache
    os.remove(PATH + ".cache")
    st = store()
    check(trust_load(st, None) and st.serial == 4 and st.source == "bundle")
