"""Policy: turning signals, matches, scores and account context into a verdict.

Pure logic: same inputs, same verdict, and every verdict names the rule that fired.
"""

from haven.policy.verdict import MatchView, Verdict, apply_classifier_review, decide_matches

__all__ = ["MatchView", "Verdict", "apply_classifier_review", "decide_matches"]
