"""The Amazon EKS Kubernetes version calendar: the one place it is kept.

Dates are when standard and extended support end. Where AWS published only a month, the
first of that month is used, so the platform never claims support that has already ended.
Versions not yet scheduled (`None`) are in standard support. Update this table when AWS
publishes a new version or moves a date; the config guard and the README follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from facts.kubernetes import KUBECTL_LAYERS


@dataclass(frozen=True)
class EksRelease:
    version: str
    standard_support_ends: date | None
    extended_support_ends: date | None

    def status(self, today: date) -> str:
        """'standard', 'extended' or 'ended' on `today`."""
        if self.extended_support_ends is not None and today >= self.extended_support_ends:
            return "ended"
        if self.standard_support_ends is not None and today >= self.standard_support_ends:
            return "extended"
        return "standard"


EKS_CALENDAR: dict[str, EksRelease] = {
    release.version: release
    for release in (
        EksRelease("1.29", date(2025, 3, 23), date(2026, 3, 23)),
        EksRelease("1.30", date(2025, 7, 23), date(2026, 7, 23)),
        EksRelease("1.31", date(2025, 11, 26), date(2026, 11, 26)),
        EksRelease("1.32", date(2026, 3, 1), date(2027, 3, 1)),
        EksRelease("1.33", date(2026, 7, 1), date(2027, 7, 1)),
        EksRelease("1.34", date(2026, 12, 2), date(2027, 12, 1)),
        EksRelease("1.35", date(2027, 3, 1), date(2028, 3, 1)),
        EksRelease("1.36", None, None),
    )
}


def accepted_versions(today: date) -> list[str]:
    """Versions EKS still creates on `today` that this platform can manage (has a layer)."""
    return [
        version
        for version, release in EKS_CALENDAR.items()
        if release.status(today) != "ended" and version in KUBECTL_LAYERS
    ]
