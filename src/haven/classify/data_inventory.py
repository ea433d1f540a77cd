"""What classify stores, declared for the data inventory (`haven.core.inventory`,
docs/data-inventory.md). A new column must be declared here, as personal or not."""

from __future__ import annotations

from haven.core.inventory import TableData

DATA: tuple[TableData, ...] = (
    TableData(
        table="conversation_messages",
        purpose="Messages screened by the conversation detector",
        basis="legitimate_interests",
        retention=(
            "conversations never flagged: 30 days after the last message; flagged conversations: while "
            "the review task, case or hold lasts"
        ),
        end="delete",
        data_class="messages.unflagged",
        # Only the sender's own messages are given in an access request (the subject is the
        # sender): the other participants' messages are theirs (another person's rights).
        subject=("sender",),
        personal={
            "sender": "account id",
            "recipients": "account ids",
            "text": "message text (sealed at rest: field-level encryption)",
            "attachments": "ids of attached content",
            "external_id": "the service's message id",
            "behaviours": "behaviours detected in the text",
            "sent_at": "time sent",
        },
        other="id conversation_id turn grooming_score sextortion_score",
        access="grooming reviewers (audited conversation.view)",
    ),
    TableData(
        table="conversations",
        purpose="Conversation detector state between turns",
        basis="legitimate_interests",
        retention=(
            "never flagged: numbers only after 30 days (evidence passages stripped); flagged: while the "
            "task, case or hold lasts"
        ),
        end="scrub",
        data_class="messages.unflagged",
        subject=("participants",),
        personal={
            "participants": "account ids",
            "state": "detector state (may hold evidence passages)",
        },
        other=(
            "id integration_id turns grooming_score sextortion_score grooming_warned_turn "
            "sextortion_warned_turn flagged_at preserved created_at updated_at"
        ),
        access="grooming reviewers",
    ),
    TableData(
        table="message_attachments",
        purpose="Which message carried which content",
        basis="legitimate_interests",
        retention="with the message",
        end="delete",
        data_class="messages.unflagged",
        personal={
            "message_id": "message id",
            "content_id": "content id",
        },
        other="",
        access="reviewers",
    ),
)
