"""The device id: the name a door unit is registered, provisioned and synced under.

1 to 32 characters, letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit
(so an id is a safe file name and URL path part). One pattern for the server, the CLI and
the door's config loader.
"""

import re

DEVICE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}"
DEVICE_ID = re.compile(DEVICE_ID_PATTERN)


def is_device_id(value: object) -> bool:
    return isinstance(value, str) and DEVICE_ID.fullmatch(value) is not None
