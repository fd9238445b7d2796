"""The sandbox's memory: accounts with their access code, and each account's klanten.

Every klant is a plain dict: `id` (an int, unique across the whole sandbox, counting up from
`FIRST_KLANT_ID` and never reused), one string per element of `VALUE_ELEMENTS`, and then, in the
order they arrived, the further elements the real service keeps and we do not map: a string per
plain element (`mobiel`, `mandaat_kenmerk`, ...) and a dict of child name to string per nested
one (`contactpersoon` -> {`id`, `naam`, `email`, ...}). The store keeps, per account, the ids in
ascending order (ids only grow, so a create appends) for cheap paging, and an index from
relatienummer to ids for the lookup and the 409 check. Klanten planted through the control
endpoint skip validation, and the `accepted` duplicates reading skips the 409, so that index may
hold more than one id.

All access goes through one lock; callers always get copies. With a state file, the whole state
is written after each change, atomically (a temporary file in the same directory, then
`os.replace`), so a demo killed at any moment restarts with its last consistent state.
"""

from __future__ import annotations

import bisect
import hmac
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .documents import VALUE_ELEMENTS, ApiError

FIRST_KLANT_ID = 133300
PAGE_SIZE = 100
# Version 2 keeps the extra and nested elements; version 1 files (known elements only) still load.
STATE_VERSION = 2
READABLE_STATE_VERSIONS = (1, 2)


@dataclass
class Account:
    account_id: str
    access_code: str
    active: bool = True
    klanten: dict[int, dict] = field(default_factory=dict)
    ordered_ids: list[int] = field(default_factory=list)
    ids_by_number: dict[str, list[int]] = field(default_factory=dict)

    def index(self, klant: dict) -> None:
        number = klant["relatienummer"]
        if number:
            self.ids_by_number.setdefault(number, []).append(klant["id"])

    def unindex(self, klant: dict) -> None:
        number = klant["relatienummer"]
        holders = self.ids_by_number.get(number)
        if holders and klant["id"] in holders:
            holders.remove(klant["id"])
            if not holders:
                del self.ids_by_number[number]

    def number_taken(self, number: str, except_id: int | None = None) -> bool:
        return any(held != except_id for held in self.ids_by_number.get(number, ()))


def blank_klant(klant_id: int) -> dict:
    return {"id": klant_id, **dict.fromkeys(VALUE_ELEMENTS, "")}


def copy_klant(klant: dict) -> dict:
    """A copy that shares no nested dict with the stored klant: callers always get copies."""
    return {name: dict(value) if isinstance(value, dict) else value
            for name, value in klant.items()}


def apply_values(klant: dict, values: dict) -> None:
    """Merge `values` into a klant: a present element replaces, `None` removes an extra (a known
    element becomes empty); the id is never touched."""
    for name, value in values.items():
        if name == "id":
            continue
        if value is None:
            if name in VALUE_ELEMENTS:
                klant[name] = ""
            else:
                klant.pop(name, None)
        elif isinstance(value, dict):
            klant[name] = {str(child): str(text) for child, text in value.items()}
        else:
            klant[name] = str(value)


class Store:
    def __init__(self, default_accounts: list[tuple[str, str]],
                 state_file: str | os.PathLike | None = None):
        # The accounts a reset returns to; the CLI's --account/--access-code, or the fixture's.
        self.default_accounts = list(default_accounts)
        self.state_file = Path(state_file) if state_file else None
        self._lock = threading.RLock()
        self._accounts: dict[str, Account] = {}
        self._next_id = FIRST_KLANT_ID
        self._install_default_accounts()

    # --- accounts -------------------------------------------------------------------------

    def _install_default_accounts(self) -> None:
        for account_id, access_code in self.default_accounts:
            self._accounts.setdefault(account_id, Account(account_id, access_code))
            self._accounts[account_id].access_code = access_code

    def set_account(self, account_id: str, access_code: str | None = None,
                    active: bool | None = None) -> dict:
        with self._lock:
            account = self._accounts.get(account_id)
            if account is None:
                if access_code is None:
                    raise KeyError(account_id)
                account = self._accounts[account_id] = Account(account_id, access_code)
            if access_code is not None:
                account.access_code = access_code
            if active is not None:
                account.active = active
            self._save()
            return self._describe(account)

    def accounts(self) -> list[dict]:
        with self._lock:
            return [self._describe(account) for account in self._accounts.values()]

    @staticmethod
    def _describe(account: Account) -> dict:
        return {"account_id": account.account_id, "active": account.active,
                "klanten": len(account.klanten)}

    def authenticate(self, account_id: str, access_code: str) -> None:
        """401 for a wrong pair (without saying which half), 403 for an inactive account."""
        with self._lock:
            account = self._accounts.get(account_id)
            expected = account.access_code if account else ""
            # Compared in constant time, as a real service would; also when the account is
            # unknown, so the answer's timing does not tell which half was wrong.
            matches = hmac.compare_digest(expected.encode(), access_code.encode())
            if account is None or not matches:
                raise ApiError(401, "Ongeldig account-id of ongeldige toegangscode")
            if not account.active:
                raise ApiError(403, "API-toegang is niet actief voor dit account")

    def _account(self, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            raise KeyError(account_id)
        return account

    # --- reading --------------------------------------------------------------------------

    def page(self, account_id: str, page: int, size: int = PAGE_SIZE, *,
             repeat_last: bool = False) -> list[dict]:
        """Page `page` (from 1) of `size` klanten by id; past the end empty, or with
        `repeat_last` the last non-empty page again."""
        with self._lock:
            account = self._account(account_id)
            if repeat_last:
                page = min(page, max(1, -(-len(account.ordered_ids) // size)))
            start = (page - 1) * size
            return [copy_klant(account.klanten[klant_id])
                    for klant_id in account.ordered_ids[start:start + size]]

    def with_number(self, account_id: str, relatienummer: str) -> list[dict]:
        """Every klant holding this relatienummer, by id (more than one only for duplicates)."""
        with self._lock:
            account = self._account(account_id)
            return [copy_klant(account.klanten[klant_id])
                    for klant_id in sorted(account.ids_by_number.get(relatienummer, ()))]

    def all_klanten(self, account_id: str) -> list[dict]:
        with self._lock:
            account = self._account(account_id)
            return [copy_klant(account.klanten[klant_id]) for klant_id in account.ordered_ids]

    def count(self, account_id: str) -> int:
        with self._lock:
            return len(self._account(account_id).klanten)

    # --- writing --------------------------------------------------------------------------

    def create(self, account_id: str, values: dict[str, str], *,
               allow_duplicate: bool = False) -> dict:
        with self._lock:
            account = self._account(account_id)
            number = values.get("relatienummer", "")
            if number and not allow_duplicate and account.number_taken(number):
                raise ApiError(409, f"relatienummer {number} is al in gebruik")
            klant = self._add(account, values)
            self._save()
            return copy_klant(klant)

    def create_many(self, account_id: str, batch: list[dict[str, str]]) -> int:
        """Add generated klanten, skipping numbers already in use; one save for the batch."""
        with self._lock:
            account = self._account(account_id)
            added = 0
            for values in batch:
                number = values.get("relatienummer", "")
                if number and account.number_taken(number):
                    continue
                self._add(account, values)
                added += 1
            self._save()
            return added

    def _add(self, account, values: dict) -> dict:
        """A new klant with the next id and the given values, in the account (lock held)."""
        klant = blank_klant(self._next_id)
        self._next_id += 1
        apply_values(klant, values)
        account.klanten[klant["id"]] = klant
        account.ordered_ids.append(klant["id"])
        account.index(klant)
        return klant

    def update(self, account_id: str, klant_id: int, values: dict, *, clear: bool = False,
               allow_duplicate: bool = False) -> dict:
        """Present elements replace (an empty one clears); absent ones stay as they were, or
        with `clear` the klant becomes exactly `values` (known elements empty, extras gone)."""
        with self._lock:
            account = self._account(account_id)
            klant = account.klanten.get(klant_id)
            if klant is None:
                raise ApiError(404, f"geen klant met id {klant_id}")
            number = values.get("relatienummer")
            if (number and not allow_duplicate
                    and account.number_taken(number, except_id=klant_id)):
                raise ApiError(409, f"relatienummer {number} is al in gebruik")
            account.unindex(klant)
            if clear:
                # Rebuilt in place: the dict stays the one the account holds.
                kept_id = klant["id"]
                klant.clear()
                klant.update(blank_klant(kept_id))
            apply_values(klant, values)
            account.index(klant)
            self._save()
            return copy_klant(klant)

    def delete(self, account_id: str, klant_id: int) -> dict:
        with self._lock:
            account = self._account(account_id)
            klant = account.klanten.pop(klant_id, None)
            if klant is None:
                raise ApiError(404, f"geen klant met id {klant_id}")
            position = bisect.bisect_left(account.ordered_ids, klant_id)
            del account.ordered_ids[position]
            account.unindex(klant)
            self._save()
            return copy_klant(klant)

    def reset(self) -> None:
        """Back to the default accounts, active and empty; ids count from the start again."""
        with self._lock:
            self._accounts = {}
            self._next_id = FIRST_KLANT_ID
            self._install_default_accounts()
            self._save()

    # --- the state file -------------------------------------------------------------------

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "version": STATE_VERSION,
                "next_id": self._next_id,
                "accounts": [
                    {"account_id": account.account_id, "access_code": account.access_code,
                     "active": account.active,
                     "klanten": [copy_klant(account.klanten[i])
                                 for i in account.ordered_ids]}
                    for account in self._accounts.values()
                ],
            }

    def restore(self, state: dict) -> None:
        if state.get("version") not in READABLE_STATE_VERSIONS:
            raise ValueError(f"unsupported sandbox state version {state.get('version')!r}")
        with self._lock:
            self._accounts = {}
            for stored in state["accounts"]:
                account = Account(stored["account_id"], stored["access_code"],
                                  bool(stored["active"]))
                for saved in sorted(stored["klanten"], key=lambda k: k["id"]):
                    klant = blank_klant(int(saved["id"]))
                    klant.update({name: str(saved.get(name, "")) for name in VALUE_ELEMENTS})
                    # Version 1 has no extras; from version 2 on they follow the known ones.
                    apply_values(klant, {name: value for name, value in saved.items()
                                         if name not in klant and value is not None})
                    account.klanten[klant["id"]] = klant
                    account.ordered_ids.append(klant["id"])
                    account.index(klant)
                self._accounts[account.account_id] = account
            highest = max((i for a in self._accounts.values() for i in a.ordered_ids),
                          default=FIRST_KLANT_ID - 1)
            self._next_id = max(int(state["next_id"]), highest + 1)
            # The command line has the last word on the default accounts' access codes.
            self._install_default_accounts()

    def load(self) -> bool:
        """Read the state file if there is one; a corrupt file is an error, never wiped."""
        if self.state_file is None or not self.state_file.exists():
            return False
        with self.state_file.open(encoding="utf-8") as stream:
            self.restore(json.load(stream))
        return True

    def _save(self) -> None:
        if self.state_file is None:
            return
        directory = self.state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{self.state_file.name}.",
                                             suffix=".tmp", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(self.snapshot(), stream, ensure_ascii=False)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.state_file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
