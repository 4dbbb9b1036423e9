"""The timeline page: one self-contained HTML file (inline CSS, SVG and script, no requests).

The SVG is drawn here, in Python, so the page shows everything even with scripts off; the
inline script only adds the hover box, which shows the journal record behind an item
(node, seq, kind, summary and fields) from a table embedded in the page, and marks the
document ready (`data-ready` on <body>, the lane count) for the browser test.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Callable, Iterator

from engine.core.codec import MalformedMessageError, decode_event, is_engine_kind
from hactl.postmortem.chain import Incident
from hactl.postmortem.names import register_record_names
from hactl.postmortem.page_data import Item, PageData, page_data
from hactl.postmortem.report import PostmortemReport
from hactl.postmortem.sources import NodeJournal
from hactl.postmortem.text import format_wall, render_incident
from journal import Record, read_records
from journal.kinds import kind_name, summarize

WIDTH = 1360
LABEL_WIDTH = 230
LANE_HEIGHT = 34
AXIS_HEIGHT = 30
TICKS = 10
FIELD_CHARS_MAX = 160

COLOURS = {
    "heartbeats": "#2e7d32", "gap": "#ff9800", "warning": "#f9a825", "dead": "#d32f2f",
    "fence": "#6a1b9a", "start": "#1565c0", "stop": "#616161", "check": "#90caf9",
    "admin": "#00838f", "service": "#43a047", "message": "#8d6e63", "last-heartbeat": "#1b5e20",
    "outage": "#d32f2f",
}  # fmt: skip

STYLE = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #212121; background: #fff; }
h1 { font-size: 18px; margin: 0 0 8px; }
svg { display: block; border: 1px solid #e0e0e0; }
.lane-bg { fill: #fafafa; } .lane-bg.odd { fill: #f0f0f0; }
.lane-title { font-size: 12px; fill: #424242; } .tick { stroke: #bdbdbd; stroke-width: 1; }
.tick-label { font-size: 11px; fill: #616161; }
.item:hover { stroke: #000; stroke-width: 1.5; }
#hover { position: fixed; display: none; background: #263238; color: #fff; padding: 8px;
  border-radius: 4px; font: 12px/1.35 ui-monospace, monospace; white-space: pre-wrap;
  max-width: 640px; pointer-events: none; }
pre.story { background: #f5f5f5; padding: 8px; white-space: pre-wrap; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  vertical-align: -2px; }
"""

SCRIPT = """
(function () {
  var records = JSON.parse(document.getElementById('records').textContent);
  var box = document.getElementById('hover');
  document.querySelectorAll('.item').forEach(function (el) {
    el.addEventListener('mousemove', function (event) {
      var text = el.getAttribute('data-label');
      var record = records[el.getAttribute('data-record')];
      if (record) {
        text += '\\n\\n' + record.node + ' seq ' + record.seq + '  ' + record.kind +
          '\\n' + record.summary;
        Object.keys(record.fields).forEach(function (name) {
          text += '\\n  ' + name + ': ' + record.fields[name];
        });
      }
      box.textContent = text;
      box.style.display = 'block';
      box.style.left = Math.min(event.clientX + 14, window.innerWidth - 660) + 'px';
      box.style.top = (event.clientY + 14) + 'px';
    });
    el.addEventListener('mouseleave', function () { box.style.display = 'none'; });
  });
  document.body.setAttribute('data-ready',
                             String(document.querySelectorAll('.lane-bg').length));
})();
"""


def render_page(report: PostmortemReport, incidents: tuple[Incident, ...]) -> str:
    register_record_names()
    data = page_data(report, incidents)
    records = _record_table(report, data)
    story = "\n\n".join("\n".join(render_incident(incident)) for incident in incidents)
    legend = "".join(f'<span><i style="background:{colour}"></i>{html.escape(name)}</span>'
                     for name, colour in COLOURS.items())  # fmt: skip
    table = json.dumps(records).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(data.title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(data.title)}</h1><div class=\"legend\">{legend}</div>"
        f"{_svg(data)}<div id=\"hover\"></div>"
        f"<pre class=\"story\">{html.escape(story or 'no incident selected')}</pre>"
        f"<script type=\"application/json\" id=\"records\">{table}</script>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def _svg(data: PageData) -> str:
    height = AXIS_HEIGHT + LANE_HEIGHT * len(data.lanes)
    span_ms = max(1, data.to_ms - data.from_ms)
    scale = (WIDTH - LABEL_WIDTH) / span_ms

    def x(ms: int) -> float:
        return LABEL_WIDTH + (ms - data.from_ms) * scale

    rows = {lane.key: index for index, lane in enumerate(data.lanes)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" id="timeline">']
    for lane, index in ((lane, rows[lane.key]) for lane in data.lanes):
        y = AXIS_HEIGHT + index * LANE_HEIGHT
        odd = " odd" if index % 2 else ""
        parts.append(f'<rect class="lane-bg{odd}" data-lane="{html.escape(lane.key)}" x="0" '
                     f'y="{y}" width="{WIDTH}" height="{LANE_HEIGHT}"/>')
        parts.append(f'<text class="lane-title" x="6" y="{y + 21}">'
                     f'{html.escape(lane.title)}</text>')
    for tick in range(TICKS + 1):
        ms = data.from_ms + span_ms * tick // TICKS
        parts.append(f'<line class="tick" x1="{x(ms):.1f}" y1="{AXIS_HEIGHT - 6}" '
                     f'x2="{x(ms):.1f}" y2="{height}"/>')
        parts.append(f'<text class="tick-label" x="{x(ms) - 40:.1f}" y="14">'
                     f'{format_wall(ms)[11:23]}</text>')
    for item in sorted(data.items, key=lambda item: item.kind != "outage"):
        parts.append(_item_svg(item, rows, x, height))
    parts.append("</svg>")
    return "".join(parts)


def _item_svg(item: Item, rows: dict[str, int], x: Callable[[int], float], height: int) -> str:
    left = min(max(LABEL_WIDTH, x(item.from_ms)), WIDTH)  # clipped to the plot area
    right = min(max(LABEL_WIDTH, x(item.to_ms)), WIDTH)
    colour = COLOURS[item.kind]
    record = "" if item.seq is None else f"{item.node}#{item.seq}"
    common = (f'class="item {item.kind}" data-kind="{item.kind}" data-record="{record}" '
              f'data-label="{html.escape(item.label, quote=True)}"')
    if item.kind == "outage":
        return (f'<rect {common} x="{left:.1f}" y="{AXIS_HEIGHT}" '
                f'width="{max(2, right - left):.1f}" height="{height - AXIS_HEIGHT}" '
                f'fill="{colour}" fill-opacity="0.16"/>')
    top = AXIS_HEIGHT + rows.get(item.lane, 0) * LANE_HEIGHT
    if item.kind == "heartbeats":
        return (f'<rect {common} x="{left:.1f}" y="{top + 8}" '
                f'width="{max(1, right - left):.1f}" height="{LANE_HEIGHT - 16}" fill="{colour}" '
                f'fill-opacity="{0.25 + 0.75 * item.density:.2f}"/>')
    if item.kind == "gap":
        return (f'<rect {common} x="{left:.1f}" y="{top + 12}" '
                f'width="{max(2, right - left):.1f}" height="{LANE_HEIGHT - 24}" fill="{colour}"/>')
    if item.kind == "dead":
        return (f'<rect {common} x="{left - 2:.1f}" y="{top + 2}" width="4" '
                f'height="{LANE_HEIGHT - 4}" fill="{colour}"/>')
    if item.to_ms > item.from_ms or item.kind in ("start", "stop", "fence", "check"):
        return (f'<rect {common} x="{left:.1f}" y="{top + 7}" '
                f'width="{max(4, right - left):.1f}" height="{LANE_HEIGHT - 14}" fill="{colour}" '
                'rx="2"/>')
    return (f'<circle {common} cx="{left:.1f}" cy="{top + LANE_HEIGHT // 2}" r="5" '
            f'fill="{colour}"/>')


def _record_table(report: PostmortemReport, data: PageData) -> dict[str, dict[str, object]]:
    wanted: dict[str, set[int]] = {}
    for item in data.items:
        if item.node is not None and item.seq is not None:
            wanted.setdefault(item.node, set()).add(item.seq)
    table: dict[str, dict[str, object]] = {}
    for journal in report.journals:
        seqs = wanted.get(journal.node, set())
        for record in sorted(_records_with(report, journal, seqs), key=lambda r: r.seq):
            table[f"{journal.node}#{record.seq}"] = _record_document(journal.node, record)
    return table


def _records_with(report: PostmortemReport, journal: NodeJournal, seqs: set[int]
                  ) -> Iterator[Record]:
    if journal.indexed_count is None:
        yield from (record for record in journal.records if record.seq in seqs)
        return
    # Loaded from the index: the trace holds the records that decided something; the
    # heartbeats a gap names are read back from the segments that hold them.
    missing = set(seqs)
    for entry in report.traces[journal.node].entries:
        if entry.record.seq in missing:
            missing.discard(entry.record.seq)
            yield entry.record
    if missing:
        last = max(missing)
        for record in read_records(journal.directory, since_seq=min(missing)):
            if record.seq in missing:
                yield record
            if record.seq >= last:
                break


def _record_document(node: str, record: Record) -> dict[str, object]:
    return {"node": node, "seq": record.seq, "kind": kind_name(record.kind),
            "summary": summarize(record.kind, record.payload), "fields": _fields(record)}


def _fields(record: Record) -> dict[str, str]:
    if is_engine_kind(record.kind) and isinstance(record.payload, list):
        try:
            event = decode_event(record.kind, record.payload)
        except MalformedMessageError:
            return {"payload": repr(record.payload)[:FIELD_CHARS_MAX]}
        return {field.name: _short(getattr(event, field.name))
                for field in dataclasses.fields(event) if field.name != "config"}  # fmt: skip
    return {"payload": _short(record.payload)}


def _short(value: object) -> str:
    text = value.hex()[:32] if isinstance(value, bytes) else str(value)
    return text if len(text) <= FIELD_CHARS_MAX else text[: FIELD_CHARS_MAX - 3] + "..."
