"""What review stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="review_decisions",
        purpose="Reviewers' decisions",
        basis="legal_obligation",
        retention="5 years (appeals, DSA)",
        end="keep",
        subject=("uploader",),
        personal={
            "subject_id": "subject id",
            "uploader": "account id",
            "note": "reviewer's note",
            "reviewer": "staff id",
            "session_id": "staff session",
            "annotations": "annotations",
            "content_ids": "content ids",
        },
        withheld={
            "reviewer": "staff privacy: the reviewer is named by handle only",
            "note": "internal deliberation",
        },
        other="id task_id queue subject_type decision category classification child_safety overturns created_at",
        access="reviewers, admin",
    ),
    TableData(
        table="review_task_exclusions",
        purpose="Staff excluded from a task",
        basis="staff_contract",
        retention="with the task",
        end="keep",
        personal={
            "staff_id": "staff id",
        },
        other="task_id",
        access="none",
    ),
    TableData(
        table="review_tasks",
        purpose="The review queues",
        basis="legitimate_interests",
        retention="closed tasks: 5 years (with their decision)",
        end="keep",
        subject=("uploader",),
        personal={
            "subject_id": "subject id",
            "uploader": "account id",
            "content_ids": "content ids",
            "details": "task details (may hold account ids)",
            "reason": "reason",
            "claimed_by": "staff id",
            "exclude_staff": "staff id",
        },
        withheld={
            "details": "internal deliberation",
        },
        other=(
            "id queue subject_type child_safety severity score priority rank_at due_at status lease_until"
            " parent_decision_id source_key created_at closed_at"
        ),
        access="reviewers",
    ),
)
