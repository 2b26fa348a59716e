"""The one rule that turns a row's scenario outcomes into its verdict.

A row has core scenarios (the method used as the seed's examples use it) and one probe per
documented caveat (the thing the caveat restricts, exercised the stock-MLflow way):

- Yes: every core scenario and every probe passes.
- Yes with caveat: every core scenario passes, at least one probe fails (the failing probes
  are the caveats observed).
- Partial: some core scenarios pass, some fail.
- No: no core scenario passes.
"""

from __future__ import annotations

YES = "Yes"
YES_WITH_CAVEAT = "Yes with caveat"
PARTIAL = "Partial"
NO = "No"
NOT_RUN = "Not run"


def verdict(core: list[bool], probes: list[bool]) -> str:
    """The verdict of a row from the pass (True) / fail (False) outcomes of its scenarios."""
    if not core:
        return NOT_RUN
    if all(core):
        return YES if all(probes) else YES_WITH_CAVEAT
    return PARTIAL if any(core) else NO
