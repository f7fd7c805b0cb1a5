"""``Metrics``: the Prometheus text format, bounded labels, cumulative histogram buckets."""

from __future__ import annotations

from trove_webhooks.metrics import HANDLER_BUCKETS, Metrics


def test_every_family_is_declared_with_help_and_type_even_when_empty() -> None:
    text = Metrics().render()
    for name, kind in [
        ("trove_webhook_deliveries_total", "counter"),
        ("trove_webhook_duplicates_total", "counter"),
        ("trove_webhook_signature_failures_total", "counter"),
        ("trove_webhook_rejected_requests_total", "counter"),
        ("trove_webhook_inbox_runs_total", "counter"),
        ("trove_webhook_handler_duration_seconds", "histogram"),
    ]:
        assert f"# TYPE {name} {kind}" in text
        assert f"# HELP {name} " in text


def test_histogram_buckets_are_cumulative_and_end_with_inf() -> None:
    metrics = Metrics()
    for seconds in (0.001, 0.02, 0.02, 7.0, 100.0):
        metrics.observe_handlers("file.written", seconds)
    lines = [line for line in metrics.render().splitlines() if "_bucket{" in line]
    counts = [int(line.rsplit(" ", 1)[1]) for line in lines]
    assert len(lines) == len(HANDLER_BUCKETS) + 1
    assert counts == sorted(counts)
    assert lines[-1].endswith('le="+Inf"} 5')
    assert 'trove_webhook_handler_duration_seconds_count{type="file.written"} 5' in metrics.render()


def test_types_outside_the_catalogue_share_one_label() -> None:
    metrics = Metrics()
    for name in ("a.b", "c.d", 'evil"\nlabel'):
        metrics.delivery("processed", name)
    assert 'trove_webhook_deliveries_total{status="processed",type="unknown"} 3' in metrics.render()


def test_gauges_are_rendered_with_a_status_label() -> None:
    text = Metrics().render({"trove_webhook_inbox_events": {"pending": 3, "dead": 1}})
    assert "# TYPE trove_webhook_inbox_events gauge" in text
    assert 'trove_webhook_inbox_events{status="pending"} 3' in text


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.signature_failure('say "hi"\\now')
    assert 'reason="say \\"hi\\"\\\\now"' in metrics.render()


def test_a_delivery_with_handler_time_counts_it_in_the_histogram_too() -> None:
    metrics = Metrics()
    metrics.delivery("processed", "file.written", 0.02)
    metrics.delivery("duplicate", "file.written")
    metrics.delivery("processed", "no.such.type", 0.5)
    text = metrics.render()
    assert 'trove_webhook_handler_duration_seconds_count{type="file.written"} 1' in text
    assert 'trove_webhook_handler_duration_seconds_bucket{type="file.written",le="0.01"} 0' in text
    assert 'trove_webhook_handler_duration_seconds_bucket{type="file.written",le="0.025"} 1' in text
    assert 'trove_webhook_handler_duration_seconds_count{type="unknown"} 1' in text
    assert metrics.counts()[("processed", "file.written")] == 1
