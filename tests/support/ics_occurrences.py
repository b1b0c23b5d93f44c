"""Parse an iCalendar file with the `icalendar` package and print, as JSON, the first N starts of
every event (RRULEs expanded with dateutil, as RFC 5545 reads them; fewer when the rule ends).

usage: python3 ics_occurrences.py FILE N
"""
import itertools
import json
import sys

import icalendar
from dateutil.rrule import rrulestr


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    cal = icalendar.Calendar.from_ical(open(path, "rb").read())
    out = {}
    for ev in cal.walk("VEVENT"):
        uid = str(ev["UID"])
        start = ev["DTSTART"].dt
        if start.tzinfo is None:
            raise SystemExit(f"{uid}: DTSTART has no time zone")
        rule = ev.get("RRULE")
        if rule is None:
            starts = [start]
        else:
            text = rule.to_ical().decode()
            # dateutil steps in wall-clock time of DTSTART's zone, as RFC 5545 does.
            # A rule with UNTIL (a schedule limited to dates) may have fewer than N.
            starts = list(itertools.islice(rrulestr(text, dtstart=start), n))
        out[uid] = {
            "summary": str(ev.get("SUMMARY", "")),
            "description": str(ev.get("DESCRIPTION", "")),
            "starts": [s.isoformat() for s in starts],
        }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
