"""Lab 6c: measure and mitigate bias (subgroup AUCs, calibration, a mitigation measured before and after)."""
