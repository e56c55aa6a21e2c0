//! A hand-written SVG chart of a run's timeline: throughput per second on
//! top, p50/p99 latency per second below. No plotting crate, just text.

use std::fmt::Write as _;

use crate::report::SecondStats;

const WIDTH: f64 = 800.0;
const PANEL_HEIGHT: f64 = 280.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// One line on a panel. Points are `(second, value)`; `None` values break
/// the line.
struct Series {
    name: &'static str,
    color: &'static str,
    points: Vec<(f64, Option<f64>)>,
}

/// Render the timeline as a standalone SVG document.
/// `asked_rate`, for constant-rate runs, is drawn as a dashed reference line
/// on the throughput panel; without it the requests scheduled per second
/// are drawn instead (e.g. the steps of a spike).
pub fn render(timeline: &[SecondStats], title: &str, asked_rate: Option<f64>) -> String {
    // Plot each bucket at its midpoint; the x axis spans whole seconds.
    let xs = timeline.iter().map(|s| s.second as f64 + 0.5);
    let per_second = |f: fn(&SecondStats) -> u64| -> Vec<(f64, Option<f64>)> {
        xs.clone()
            .zip(timeline.iter().map(|s| Some(f(s) as f64)))
            .collect()
    };
    let mut throughput = vec![
        Series {
            name: "finished/s",
            color: "#1f77b4",
            points: per_second(|s| s.completed),
        },
        Series {
            name: "2xx/s",
            color: "#2ca02c",
            points: per_second(|s| s.successes),
        },
        Series {
            name: "503+429/s",
            color: "#ff7f0e",
            points: per_second(|s| s.overloaded),
        },
    ];
    if asked_rate.is_none() {
        throughput.push(Series {
            name: "scheduled/s",
            color: "#888888",
            points: per_second(|s| s.scheduled),
        });
    }
    let ms = |us: Option<u64>| us.map(|v| v as f64 / 1000.0);
    let latency = vec![
        Series {
            name: "2xx p50",
            color: "#1f77b4",
            points: xs
                .clone()
                .zip(timeline.iter().map(|s| ms(s.ok_p50_us)))
                .collect(),
        },
        Series {
            name: "2xx p99",
            color: "#d62728",
            points: xs.zip(timeline.iter().map(|s| ms(s.ok_p99_us))).collect(),
        },
    ];
    let seconds = timeline.len().max(1) as f64;

    let height = 2.0 * PANEL_HEIGHT + 30.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="20" text-anchor="middle" font-size="15">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    let top = (30.0, "throughput", "requests / s");
    panel(
        &mut out,
        top,
        &throughput,
        asked_rate.map(|r| ("asked", r)),
        seconds,
    );
    let bottom = (30.0 + PANEL_HEIGHT, "latency (from scheduled time)", "ms");
    panel(&mut out, bottom, &latency, None, seconds);
    out.push_str("</svg>\n");
    out
}

/// Draw one chart; `frame` is (top edge, title, y unit). `reference` is an
/// optional labelled horizontal dashed line.
fn panel(
    out: &mut String,
    (y0, title, unit): (f64, &str, &str),
    series: &[Series],
    reference: Option<(&str, f64)>,
    seconds: f64,
) {
    let (x_left, x_right) = (LEFT, WIDTH - RIGHT);
    let (y_top, y_bottom) = (y0 + TOP, y0 + PANEL_HEIGHT - BOTTOM);
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .chain(reference.map(|r| r.1))
        .fold(0.0_f64, f64::max);
    let (step, n_ticks) = ticks(max * 1.02);
    let y_max = step * f64::from(n_ticks);
    let px = |x: f64| x_left + x / seconds * (x_right - x_left);
    let py = |y: f64| y_bottom - y / y_max * (y_bottom - y_top);

    let _ = writeln!(
        out,
        r#"<text x="{x_left}" y="{}" font-size="13" font-weight="bold">{}</text>"#,
        y_top - 12.0,
        escape(title)
    );
    // Horizontal grid lines with y tick labels.
    for i in 0..=n_ticks {
        let v = step * f64::from(i);
        let y = py(v);
        let _ = writeln!(
            out,
            r##"<line x1="{x_left}" y1="{y:.1}" x2="{x_right}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            x_left - 6.0,
            y + 4.0,
            tick_label(v)
        );
    }
    // X tick labels, about ten of them.
    let step = (seconds / 10.0).ceil().max(1.0);
    let mut s = 0.0;
    while s <= seconds {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{s}</text>"#,
            px(s),
            y_bottom + 16.0
        );
        s += step;
    }
    // Axes and their labels.
    let _ = writeln!(
        out,
        r#"<path d="M{x_left},{y_top} V{y_bottom} H{x_right}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time (s)</text>"#,
        (x_left + x_right) / 2.0,
        y_bottom + 36.0
    );
    let mid = (y_top + y_bottom) / 2.0;
    let _ = writeln!(
        out,
        r#"<text x="16" y="{mid:.1}" text-anchor="middle" transform="rotate(-90 16 {mid:.1})">{}</text>"#,
        escape(unit)
    );

    if let Some((label, value)) = reference {
        let y = py(value);
        let _ = writeln!(
            out,
            r##"<line x1="{x_left}" y1="{y:.1}" x2="{x_right}" y2="{y:.1}" stroke="#888" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" fill="#555">{} {}</text>"##,
            x_left + 6.0,
            y - 4.0,
            escape(label),
            tick_label(value)
        );
    }
    for (n, line) in series.iter().enumerate() {
        // Split into runs of consecutive present values.
        for run in line.points.split(|p| p.1.is_none()) {
            if run.is_empty() {
                continue;
            }
            let pts: Vec<String> = run
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y.unwrap_or(0.0))))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
                line.color,
                pts.join(" ")
            );
        }
        // Legend entry in the top-right corner.
        let ly = y_top - 16.0 + 14.0 * n as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            x_right - 110.0,
            x_right - 90.0,
            line.color,
            x_right - 85.0,
            ly + 4.0,
            line.name
        );
    }
}

/// A round step (1, 2 or 5 times a power of ten) and the number of steps
/// needed to cover `0..=max` with about five grid lines.
fn ticks(max: f64) -> (f64, u32) {
    if !(max > 0.0 && max.is_finite()) {
        return (1.0, 1);
    }
    let raw = max / 5.0;
    let pow = 10_f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * pow)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * pow);
    (step, (max / step).ceil().max(1.0) as u32)
}

fn tick_label(v: f64) -> String {
    if v >= 100.0 || v == 0.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::totals::ErrorCounts;

    fn second(second: u64, completed: u64, p50: Option<u64>, p99: Option<u64>) -> SecondStats {
        SecondStats {
            second,
            scheduled: completed,
            completed,
            successes: completed,
            overloaded: 0,
            other_statuses: Default::default(),
            errors: ErrorCounts::default(),
            dropped: 0,
            p50_us: p50,
            p99_us: p99,
            ok_p50_us: p50,
            ok_p99_us: p99,
        }
    }

    #[test]
    fn renders_polylines_for_both_panels() {
        let timeline = vec![
            second(0, 100, Some(1_000), Some(5_000)),
            second(1, 120, Some(1_200), Some(9_000)),
            second(2, 0, None, None),
            second(3, 80, Some(900), Some(4_000)),
        ];
        let svg = render(&timeline, "jwks <demo> & co", Some(100.0));
        assert!(svg.starts_with("<svg "));
        assert!(svg.trim_end().ends_with("</svg>"));
        // Three throughput lines, and p50/p99 each split in two by the gap.
        assert_eq!(svg.matches("<polyline").count(), 3 + 2 * 2);
        assert!(svg.contains("time (s)"));
        assert!(svg.contains("requests / s"));
        assert!(svg.contains("asked 100"));
        assert!(svg.contains("jwks &lt;demo&gt; &amp; co"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        // Every element opened is closed or self-closed.
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());

        // Without a constant asked rate, the schedule itself is drawn.
        let svg = render(&timeline, "spike", None);
        assert!(svg.contains("scheduled/s") && !svg.contains("asked"));
        assert_eq!(svg.matches("<polyline").count(), 4 + 2 * 2);
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(2479.0), (500.0, 5));
        assert_eq!(ticks(3630.0), (1000.0, 4));
        assert_eq!(ticks(7.0), (2.0, 4));
        assert_eq!(ticks(0.0), (1.0, 1));
    }

    #[test]
    fn empty_timeline_is_still_a_document() {
        let svg = render(&[], "nothing", Some(10.0));
        assert!(svg.starts_with("<svg ") && svg.contains("</svg>"));
        assert!(!svg.contains("NaN"));
        assert_eq!(svg.matches("<polyline").count(), 0);
    }
}
