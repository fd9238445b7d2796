"""The account as one run knows it: what one full read of DigitaleFactuur's klanten taught it.

DigitaleFactuur's public examples document no way to find a klant by its number or by its id:
`klanten&relatienummer=N` may be ignored (the answer is then the list, or its first page), and
the list itself may or may not page. So the run never trusts the filter on its own, and reads
the whole account at most once, through one of two doors:

- the import phase reads it anyway: it hands every slice to `note` and calls `finish`;
- otherwise (import off, a change push) `read_all` reads it when a question needs it, lazily:
  a full run with import off asks at once (vanished klanten), a change push only when the
  filter cannot answer (`find`, `fresh_copy`).

Either way the copy an update passes back (`DfLink.source`) is refreshed for every linked klant
whose raw hash changed (the import does it in its own transaction), so after the read a link's
source is the klant as this run saw it.

What is kept, for the rest of the run: the ids seen (vanished klanten), every number with its
ids (a create never makes a number that exists anywhere in the account), and whole only the
klanten no link holds (the export may adopt them). Memory grows with the account's ids and
numbers, not with its klanten.
"""

from __future__ import annotations

import functools

from django.utils.translation import gettext as _

from .client import Listing, id_order
from .concurrency import ACCOUNT_READ_AHEAD
from .links import DfLink, source_fields, source_klant
from .mapping import raw_klant_hash
from .schema import DfKlant, normalise_value, valid_id

#: A full read that misses more than this share of the linked klanten (and more than
#: VANISHED_FLOOR of them) is not acted on: such a read is far likelier to be another account
#: or a list the service cut short than a mass deletion, and acting would duplicate them all.
VANISHED_SHARE = 0.5
VANISHED_FLOOR = 10

#: Links read at a time when looking for vanished klanten.
LINK_SLICE = 5000

#: The answer to "which klant is this link's, now?" when the account no longer holds it.
VANISHED = object()


def held_klant(klant_id: str) -> DfKlant:
    """A klant a link held when the account was read: only its id is kept (memory grows with
    the account's ids, not its klanten), enough to name it and to refuse taking it."""
    return DfKlant(id=klant_id)


class AccountView:
    """One run's knowledge of the account (see the module docstring)."""

    def __init__(self, client, writer, workers=None):
        self.client = client
        #: The run's workers: the full read reads its pages ahead on them.
        self.workers = workers
        #: The run's writer (writers.py): it refreshes the links' kept copies, or (a preview)
        #: does not, and then no kept copy is fresh.
        self.writer = writer
        #: True once a full read went through to the end.
        self.complete = False
        self.listing = Listing()
        self.seen: set[str] = set()
        self.by_number: dict[str, list[str]] = {}
        #: The klanten no link holds, whole (the export may adopt one by its number).
        self.free: dict[str, DfKlant] = {}
        self._vanished: list[DfLink] | None = None
        self._vanished_ids: set[str] = set()
        #: How many linked klanten a read missed when it missed too many to act on.
        self.too_many_vanished = 0
        self._taken: set[str] = set()

    # --- filling it ---------------------------------------------------------------------------

    def note(self, klanten: list[DfKlant], linked_ids: set[str]) -> None:
        """What one slice of the full read holds; `linked_ids`: those a link holds."""
        for klant in klanten:
            if not valid_id(klant.id):
                continue
            number = normalise_value(klant.relatienummer)
            if number:
                self.by_number.setdefault(number, []).append(klant.id)
            if klant.id not in linked_ids:
                self.free[klant.id] = klant

    def finish(self) -> None:
        for ids in self.by_number.values():
            if len(ids) > 1:
                ids.sort(key=lambda klant_id: id_order(DfKlant(id=klant_id)))
        self.complete = True

    def read_all(self) -> None:
        """Read the whole account now (once per run), refreshing the links' kept copies."""
        if self.complete:
            return
        read_ahead = self.read_ahead
        if read_ahead is not None:
            # This read does little per page (ids, numbers, the changed copies), so pages
            # come in faster than one at a time is worth waiting for: more of them are read
            # ahead than while the import writes each one (ACCOUNT_READ_AHEAD pages of some
            # 320 kB at most).
            read_ahead = functools.partial(read_ahead, ahead=ACCOUNT_READ_AHEAD)
        for klanten in self.client.iter_pages(self.seen, self.listing, read_ahead):
            self.note(klanten, self._refresh_copies(klanten))
        self.finish()

    def _refresh_copies(self, klanten: list[DfKlant]) -> set[str]:
        """The linked ones among `klanten`; their kept copy moves on where it changed."""
        ids = [klant.id for klant in klanten if valid_id(klant.id)]
        hashes = dict(DfLink.objects.filter(df_id__in=ids).values_list("df_id", "source_hash"))
        if not self.writer.refreshes_copies:
            return set(hashes)
        stale = []
        for klant in klanten:
            if klant.id in hashes:
                raw = raw_klant_hash(klant)
                if raw != hashes[klant.id]:
                    stale.append((klant, raw))
        if stale:
            pks = dict(DfLink.objects.filter(df_id__in=[k.id for k, _raw in stale])
                       .values_list("df_id", "pk"))
            self.writer.refresh_copies(
                [DfLink(pk=pks[klant.id], **source_fields(klant, raw)) for klant, raw in stale
                 if klant.id in pks])
        return set(hashes)

    @property
    def read_ahead(self):
        """The workers' read-ahead of pages, or None (one request at a time)."""
        return self.workers.pages if self.workers is not None and self.workers.cap > 1 else None

    # --- asking it ----------------------------------------------------------------------------

    def find(self, number: str) -> list[DfKlant]:
        """The klanten with this relatienummer, lowest id first: whole where the export may
        adopt them, and as `held_klant` (the id alone) where a link held them when the account
        was read; `available` says which may be taken.

        From the full read when there is one; otherwise from the filter when its answer shows
        it honoured; otherwise the full read is made now and answers.
        """
        number = normalise_value(number)
        if not number:
            return []
        if not self.complete and self.client.filter_honoured is not False:
            answer = self.client.lookup_number(number)
            if answer.honoured:
                return sorted((k for k in answer.with_number() if valid_id(k.id)), key=id_order)
        self.read_all()
        return [self.free.get(klant_id) or held_klant(klant_id)
                for klant_id in self.by_number.get(number, ())]

    def fresh_copy(self, link: DfLink):
        """The linked klant as DigitaleFactuur holds it now (whole), VANISHED, or None when
        no copy can be had (then the update sends our fields only).

        After the run's full read the link's kept copy is that (the read refreshed it, and the
        export loads its links after the read): no request, no query. Otherwise the filter is
        asked first (its answer holding that id is a fresh copy, whatever else it holds), and
        only when it does not tell is the whole account read. A writer that refreshes no kept
        copy (a preview) has none: None.
        """
        if not self.writer.refreshes_copies:
            return None
        if self.complete:
            if link.df_id not in self.seen:
                return VANISHED
            kept = link.source_klant
            if kept is not None:
                return kept
        if self.client.filter_honoured is not False and link.number:
            answer = self.client.lookup_number(link.number)
            hit = next((k for k in answer.klanten if k.id == link.df_id), None)
            if hit is not None:
                return hit
        if self.complete:
            return None
        self.read_all()
        if link.df_id not in self.seen:
            return VANISHED
        row = DfLink.objects.filter(pk=link.pk).values_list("source", "source_hash").first()
        return source_klant(link.df_id, *row) if row is not None else None

    def available(self, klant: DfKlant) -> bool:
        """May the export link this klant, found by its number? Not when a link holds it."""
        if klant.id in self._taken:
            return False
        if self.complete and klant.id in self.free:
            return True
        return not DfLink.objects.filter(df_id=klant.id).exists()

    def take(self, klant_id: str) -> None:
        """The export links this klant now: no other relation may have it in this run."""
        self._taken.add(klant_id)
        self.free.pop(klant_id, None)

    def vanished_links(self) -> list[DfLink]:
        """After a full read: the links whose klant was not seen, or [] when the read is not to
        be trusted for that (see VANISHED_SHARE)."""
        if not self.complete:
            return []
        if self._vanished is None:
            # Plain values, a slice at a time by id (no server-side cursor, the same on every
            # database): only the vanished ones become objects.
            total, vanished, last_pk = 0, [], 0
            while True:
                rows = list(DfLink.objects.filter(pk__gt=last_pk).order_by("pk")
                            .values_list("pk", "df_id", "relation_id", "kind", "number")
                            [:LINK_SLICE])
                for pk, df_id, relation_id, kind, number in rows:
                    total += 1
                    if df_id not in self.seen:
                        vanished.append(DfLink(pk=pk, df_id=df_id, relation_id=relation_id,
                                               kind=kind, number=number))
                if len(rows) < LINK_SLICE:
                    break
                last_pk = rows[-1][0]
            too_many = (len(vanished) > VANISHED_FLOOR
                        and len(vanished) > VANISHED_SHARE * total)
            self._vanished = [] if too_many else vanished
            self._vanished_ids = {link.df_id for link in self._vanished}
            self.too_many_vanished = len(vanished) if too_many else 0
        return self._vanished

    def vanished(self, df_id: str) -> bool:
        """Is this link's klant one of `vanished_links`?"""
        self.vanished_links()
        return df_id in self._vanished_ids

    def vanished_note(self) -> str:
        count = self.too_many_vanished
        if not count:
            return ""
        return _("%(count)d gekoppelde klanten stonden niet in de lijst van DigitaleFactuur. "
                 "Omdat dat meer dan de helft is, is niets opnieuw aangemaakt of ontkoppeld: "
                 "controleer of het juiste account is ingesteld.") % {"count": count}
