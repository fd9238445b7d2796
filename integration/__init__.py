"""The PerfectView side of the DigitaleFactuur connector: one Django app per part (DESIGN.md)."""
