//! Recurring events (RFC 5545 RRULE, through the `rrule` crate): building a rule from the wizard's
//! answers, validating a rule, and expanding a series into the occurrences inside a window.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::error::{Error, Result};
use crate::model::event::{Frequency, Recurrence};

/// Most occurrences one series may produce in one query (a daily meeting over ten years).
const MAX_OCCURRENCES: u16 = 4000;

const WEEKDAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// The RRULE for the wizard's answers, `None` for a one-off meeting.
pub fn rule_from(rec: &Recurrence) -> Result<Option<String>> {
    let freq = match rec.freq {
        Frequency::None => return Ok(None),
        Frequency::Daily => "DAILY",
        Frequency::Weekly => "WEEKLY",
        Frequency::Monthly => "MONTHLY",
    };
    let mut rule = format!("FREQ={freq}");
    if let Some(i) = rec.interval {
        if !(1..=365).contains(&i) {
            return Err(Error::invalid(
                "extra.recurrence.interval",
                "out_of_range",
                "use an interval from 1 to 365",
            ));
        }
        if i > 1 {
            rule.push_str(&format!(";INTERVAL={i}"));
        }
    }
    if !rec.by_day.is_empty() {
        let days: Vec<String> = rec.by_day.iter().map(|d| d.to_ascii_uppercase()).collect();
        if let Some(bad) = days.iter().find(|d| !WEEKDAYS.contains(&d.as_str())) {
            return Err(Error::invalid(
                "extra.recurrence.by_day",
                "invalid",
                format!("`{bad}` is not a weekday; use MO, TU, WE, TH, FR, SA or SU"),
            ));
        }
        rule.push_str(&format!(";BYDAY={}", days.join(",")));
    }
    match (rec.until, rec.count) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "extra.recurrence",
                "conflict",
                "give an end date or a count, not both",
            ));
        }
        (Some(until), None) => rule.push_str(&format!(";UNTIL={}", until_stamp(until))),
        (None, Some(count)) => {
            if !(1..=1000).contains(&count) {
                return Err(Error::invalid(
                    "extra.recurrence.count",
                    "out_of_range",
                    "use a count from 1 to 1000",
                ));
            }
            rule.push_str(&format!(";COUNT={count}"));
        }
        (None, None) => {}
    }
    Ok(Some(rule))
}

/// UNTIL as the end of that day, UTC.
fn until_stamp(day: NaiveDate) -> String {
    format!("{}T235959Z", day.format("%Y%m%d"))
}

fn rrule_set(rule: &str, start: DateTime<Utc>) -> Result<rrule::RRuleSet> {
    let text = format!("DTSTART:{}\nRRULE:{}", start.format("%Y%m%dT%H%M%SZ"), rule);
    text.parse::<rrule::RRuleSet>().map_err(|e| {
        Error::invalid(
            "rrule",
            "invalid",
            format!("not a valid RFC 5545 recurrence rule: {e}"),
        )
    })
}

/// Checks a rule, and returns the end of the last occurrence (`None` for an unbounded series).
pub fn validate(rule: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let upper = rule.to_ascii_uppercase();
    if !upper.contains("FREQ=") || rule.contains('\n') || rule.len() > 500 {
        return Err(Error::invalid(
            "rrule",
            "invalid",
            "a recurrence rule looks like FREQ=WEEKLY;BYDAY=MO",
        ));
    }
    if ["FREQ=SECONDLY", "FREQ=MINUTELY", "FREQ=HOURLY"]
        .iter()
        .any(|f| upper.contains(f))
    {
        return Err(Error::invalid(
            "rrule",
            "too_frequent",
            "events repeat at most daily",
        ));
    }
    let set = rrule_set(rule, start)?;
    if !(upper.contains("UNTIL=") || upper.contains("COUNT=")) {
        return Ok(None);
    }
    let all = set.all(MAX_OCCURRENCES);
    if all.limited {
        return Err(Error::invalid(
            "rrule",
            "too_long",
            "a series has at most 4000 occurrences; shorten it",
        ));
    }
    let last = all.dates.last().map(|d| d.with_timezone(&Utc)).unwrap_or(start);
    Ok(Some(last + (end - start)))
}

/// Occurrence starts of a series whose occurrence overlaps `[from, to)`.
pub fn occurrences(
    rule: &str,
    start: DateTime<Utc>,
    duration: Duration,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>> {
    let tz = rrule::Tz::UTC;
    // An occurrence that started up to `duration` before the window still overlaps it.
    let after = (from - duration).max(start) - Duration::seconds(1);
    let set = rrule_set(rule, start)?
        .after(tz.from_utc_datetime(&after.naive_utc()))
        .before(tz.from_utc_datetime(&to.naive_utc()));
    let dates = set.all(MAX_OCCURRENCES).dates;
    Ok(dates
        .into_iter()
        .map(|d| d.with_timezone(&Utc))
        .filter(|s| *s < to && *s + duration > from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    #[test]
    fn rules_from_the_wizard() {
        let r = |freq, interval, until, count, by_day: &[&str]| Recurrence {
            freq,
            interval,
            until,
            count,
            by_day: by_day.iter().map(|s| (*s).to_owned()).collect(),
        };
        assert_eq!(
            rule_from(&r(Frequency::None, None, None, None, &[])).unwrap(),
            None
        );
        assert_eq!(
            rule_from(&r(Frequency::Weekly, Some(2), None, Some(5), &[]))
                .unwrap()
                .as_deref(),
            Some("FREQ=WEEKLY;INTERVAL=2;COUNT=5")
        );
        assert_eq!(
            rule_from(&r(
                Frequency::Daily,
                None,
                NaiveDate::from_ymd_opt(2026, 6, 30),
                None,
                &["mo", "TU", "we", "th", "fr"]
            ))
            .unwrap()
            .as_deref(),
            Some("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20260630T235959Z")
        );
        assert!(rule_from(&r(Frequency::Daily, None, None, None, &["XX"])).is_err());
        assert!(
            rule_from(&r(
                Frequency::Daily,
                None,
                NaiveDate::from_ymd_opt(2026, 1, 1),
                Some(3),
                &[]
            ))
            .is_err()
        );
    }

    #[test]
    fn expansion_inside_a_window() {
        // Mon 2 March 2026 09:00, weekdays only, 15 minutes.
        let rule = "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR";
        let got = occurrences(rule, t(2, 9), Duration::minutes(15), t(5, 0), t(10, 0)).unwrap();
        // Thu 5, Fri 6, (weekend skipped), Mon 9.
        assert_eq!(got, vec![t(5, 9), t(6, 9), t(9, 9)]);
        // An occurrence already running at the window start is included.
        let got = occurrences(rule, t(2, 9), Duration::hours(2), t(3, 10), t(3, 12)).unwrap();
        assert_eq!(got, vec![t(3, 9)]);
        // Half-open: one ending exactly at the window start is not.
        let got = occurrences(rule, t(2, 9), Duration::hours(1), t(3, 10), t(3, 12)).unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn validation_and_series_end() {
        assert_eq!(validate("FREQ=WEEKLY", t(2, 9), t(2, 10)).unwrap(), None);
        assert_eq!(
            validate("FREQ=DAILY;COUNT=3", t(2, 9), t(2, 10)).unwrap(),
            Some(t(4, 10))
        );
        assert!(validate("FREQ=MINUTELY", t(2, 9), t(2, 10)).is_err());
        assert!(validate("not a rule", t(2, 9), t(2, 10)).is_err());
        assert!(validate("FREQ=DAILY;COUNT=5000", t(2, 9), t(2, 10)).is_err());
    }
}
