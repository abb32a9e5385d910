from helpdesk.ingest.outcomes import IngestOutcome, IngestStatus
from helpdesk.ingest.state import PollSummary


def test_summary_lists_each_ticket_once():
    summary = PollSummary(mailbox="box", folder="INBOX")
    outcomes = [
        IngestOutcome(IngestStatus.INGESTED, 7, 1),
        IngestOutcome(IngestStatus.INGESTED, 3, 2),
        IngestOutcome(IngestStatus.DUPLICATE, 7, 1),
        IngestOutcome(IngestStatus.IGNORED, None, None),
    ]

    for outcome in outcomes:
        summary.count(outcome)

    assert summary.ticket_ids == [7, 3]
    assert (summary.fetched, summary.ingested, summary.duplicates, summary.ignored) == (4, 2, 1, 1)
    assert "_seen_ticket_ids" not in summary.as_dict()
