//! The gateway usage shown on an integration's overview: its calls of the last 30 UTC days as a bar
//! chart (drawn here as inline SVG, no script) and, for screen readers and exact figures, a table by
//! service with the refusals by reason. The counts come from `gatehouse_core::gateway::usage`.

use std::collections::BTreeMap;

use gatehouse_store::UsageCount;

/// Days the chart shows, today included.
pub const DAYS: i64 = 30;
/// The chart's drawing area, in SVG user units.
const WIDTH: u32 = 600;
const HEIGHT: u32 = 120;

/// One day's bar: calls let through and refused, with its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayBar {
    pub date: String,
    pub allowed: i64,
    pub refused: i64,
    /// Geometry: the bar's x, its width, and the heights (from the bottom) of the two stacked parts.
    pub x: u32,
    pub width: u32,
    pub allowed_height: u32,
    pub refused_height: u32,
}

/// One service's totals over the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTotals {
    pub service: String,
    pub allowed: i64,
    /// Refusals by reason (the gateway's refusal codes), largest first.
    pub refused: Vec<(String, i64)>,
}

/// The usage section's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageChart {
    pub bars: Vec<DayBar>,
    pub services: Vec<ServiceTotals>,
    pub total_allowed: i64,
    pub total_refused: i64,
    /// The largest day's calls, the chart's full height.
    pub peak: i64,
    pub width: u32,
    pub height: u32,
}

fn date_of(day: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day * 86_400)
        .ok()
        .and_then(|t| t.format(time::macros::format_description!("[year]-[month]-[day]")).ok())
        .unwrap_or_default()
}

/// Lays out `counts` (any order) over the [`DAYS`] days that end with `today`.
pub fn chart(counts: &[UsageCount], today: i64) -> UsageChart {
    let first = today - DAYS + 1;
    let mut per_day: BTreeMap<i64, (i64, i64)> = (first..=today).map(|d| (d, (0, 0))).collect();
    let mut per_service: BTreeMap<&str, (i64, BTreeMap<&str, i64>)> = BTreeMap::new();
    for c in counts.iter().filter(|c| (first..=today).contains(&c.day)) {
        let day = per_day.entry(c.day).or_default();
        let service = per_service.entry(c.service_code.as_str()).or_default();
        if c.outcome == "allowed" {
            day.0 += c.requests;
            service.0 += c.requests;
        } else {
            day.1 += c.requests;
            *service.1.entry(c.outcome.as_str()).or_default() += c.requests;
        }
    }
    let peak = per_day.values().map(|(a, r)| a + r).max().unwrap_or(0);
    let slot = WIDTH / u32::try_from(DAYS).unwrap_or(30);
    let scale = |n: i64| -> u32 {
        if peak == 0 {
            return 0;
        }
        let h = (n as f64 / peak as f64 * f64::from(HEIGHT)).round() as u32;
        // A day with calls shows at least a sliver.
        if n > 0 { h.max(1) } else { 0 }
    };
    let bars = per_day
        .iter()
        .enumerate()
        .map(|(n, (day, (allowed, refused)))| DayBar {
            date: date_of(*day),
            allowed: *allowed,
            refused: *refused,
            x: u32::try_from(n).unwrap_or(0) * slot + 1,
            width: slot.saturating_sub(2).max(1),
            allowed_height: scale(*allowed),
            refused_height: scale(*refused),
        })
        .collect();
    let services = per_service
        .into_iter()
        .map(|(service, (allowed, refused))| {
            let mut refused: Vec<(String, i64)> = refused.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            refused.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            ServiceTotals {
                service: service.to_owned(),
                allowed,
                refused,
            }
        })
        .collect();
    UsageChart {
        total_allowed: per_day.values().map(|(a, _)| a).sum(),
        total_refused: per_day.values().map(|(_, r)| r).sum(),
        bars,
        services,
        peak,
        width: WIDTH,
        height: HEIGHT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(day: i64, service: &str, outcome: &str, requests: i64) -> UsageCount {
        UsageCount {
            integration_id: "i".into(),
            service_code: service.into(),
            day,
            outcome: outcome.into(),
            requests,
        }
    }

    #[test]
    fn thirty_days_end_today_and_scale_to_the_busiest() {
        let today = 20_000;
        let c = chart(
            &[
                count(today, "docs", "allowed", 90),
                count(today, "docs", "rate_limited", 10),
                count(today - 1, "docs", "allowed", 1),
                count(today - 29, "pdf", "allowed", 50),
                count(today - 30, "docs", "allowed", 1_000),
                count(today, "pdf", "not_subscribed", 3),
                count(today, "pdf", "rate_limited", 4),
            ],
            today,
        );
        assert_eq!(c.bars.len(), 30);
        assert_eq!(c.bars[0].date, date_of(today - 29));
        assert_eq!(c.bars[29].date, "2024-10-04");
        assert_eq!(c.peak, 107, "the day 30 days ago is left out");
        let last = &c.bars[29];
        assert_eq!((last.allowed, last.refused), (90, 17));
        assert_eq!(last.allowed_height + last.refused_height, 120);
        assert_eq!(c.bars[28].allowed_height, 1, "a day with calls is never invisible");
        assert_eq!(c.bars[10].allowed_height, 0);
        assert_eq!((c.total_allowed, c.total_refused), (141, 17));
        assert_eq!(c.services[1].service, "pdf");
        assert_eq!(
            c.services[1].refused,
            vec![("rate_limited".into(), 4), ("not_subscribed".into(), 3)]
        );
        assert!(c.bars.iter().all(|b| b.x + b.width <= c.width));
    }

    #[test]
    fn no_calls_draw_no_bars() {
        let c = chart(&[], 20_000);
        assert_eq!(c.peak, 0);
        assert!(c.bars.iter().all(|b| b.allowed_height == 0 && b.refused_height == 0));
        assert!(c.services.is_empty());
    }
}
