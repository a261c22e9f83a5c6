//! Dates in scenario files: `2021-06-06` or `2021-06-06 09:30` (UTC), to
//! and from milliseconds since 1970, without a calendar library.

/// Milliseconds since 1970-01-01T00:00:00Z for `text`, or why not.
pub fn parse(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a date like \"2021-06-06\" or \"2021-06-06 09:30\"");
    let (date, time) = match text.trim().split_once([' ', 'T']) {
        Some((date, time)) => (date, Some(time)),
        None => (text.trim(), None),
    };
    let mut parts = date.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let number = |part: &str, digits: usize| -> Result<u64, String> {
        if part.len() != digits || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let (year, month, day) = (number(year, 4)?, number(month, 2)?, number(day, 2)?);
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
        return Err(bad());
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(format!("{text:?}: {year}-{month:02} has no day {day}"));
    }
    let (hour, minute) = match time {
        None => (0, 0),
        Some(time) => {
            let (hour, minute) = time.trim_end_matches('Z').split_once(':').ok_or_else(bad)?;
            let (hour, minute) = (number(hour, 2)?, number(minute, 2)?);
            if hour > 23 || minute > 59 {
                return Err(bad());
            }
            (hour, minute)
        }
    };
    let days = days_since_epoch(year, month, day);
    Ok(((days * 24 + hour) * 60 + minute) * 60_000)
}

/// `2021-06-06 09:30` for a time in milliseconds since 1970 (UTC).
pub fn format(ms: u64) -> String {
    let minutes = ms / 60_000;
    let (days, minute_of_day) = (minutes / (24 * 60), minutes % (24 * 60));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// `2021-06-06`: the day only.
pub fn format_day(ms: u64) -> String {
    format(ms)[..10].to_owned()
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let years: u64 = (1970..year)
        .map(|y| if is_leap(y) { 366 } else { 365 })
        .sum();
    let months: u64 = (1..month).map(|m| days_in_month(year, m)).sum();
    years + months + day - 1
}

fn civil_from_days(mut days: u64) -> (u64, u64, u64) {
    let mut year = 1970;
    loop {
        let length = if is_leap(year) { 366 } else { 365 };
        if days < length {
            break;
        }
        days -= length;
        year += 1;
    }
    let mut month = 1;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    (year, month, days + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse("1970-01-01"), Ok(0));
        // 2021-01-01T00:00:00Z, as `date -d 2021-01-01 +%s` says.
        assert_eq!(parse("2021-01-01"), Ok(1_609_459_200_000));
        assert_eq!(parse("2021-06-06 09:30"), Ok(1_622_971_800_000));
        assert_eq!(parse("2020-02-29T12:00Z"), Ok(1_582_977_600_000));
    }

    #[test]
    fn round_trips() {
        for text in ["2021-01-04 00:00", "2021-06-06 09:30", "2024-02-29 23:59"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        assert_eq!(format_day(parse("2021-06-06 09:30").unwrap()), "2021-06-06");
    }

    #[test]
    fn bad_dates_say_why() {
        for text in [
            "",
            "2021",
            "2021-6-6",
            "2021-13-01",
            "2021-06-06 25:00",
            "yesterday",
        ] {
            assert!(parse(text).unwrap_err().contains("is not a date"), "{text}");
        }
        assert_eq!(
            parse("2021-02-29").unwrap_err(),
            "\"2021-02-29\": 2021-02 has no day 29"
        );
    }
}
