//! Kubernetes resource quantities (`100m`, `1.5Gi`, `1e3`), parsed and printed the way
//! apimachinery's `resource.Quantity` does, so that sums we compute read exactly like the values
//! `kubectl` shows.
//!
//! Representation: a signed count of **nano-units** in an `i128`. apimachinery keeps a value only
//! down to nano (finer non-zero values are rounded away from zero, `0.9n` → `1n`), so nano is the
//! smallest unit that stays exact for every value the API server accepts; milli-units would lose
//! `1234500u`-style values. `i128` nanos reach about 1.7e29 units, far beyond any real resource
//! amount; a larger literal (apimachinery is unbounded for decimal values) is rejected with an
//! error rather than silently wrapped.
//!
//! Like apimachinery, a quantity remembers the *kind* of suffix it was written with (binary `Ki`…,
//! decimal `k`…, or exponent `e3`), and `Display` prints the canonical form of that kind:
//! no fractional digits, the largest suffix that loses nothing (`1.5Gi` → `1536Mi`,
//! `0.5` → `500m`). Equality and ordering compare values only (`1Gi == 1073741824`).

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign};
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde::{Serialize, Serializer};

const NANOS_PER_UNIT: i128 = 1_000_000_000;

/// apimachinery silently caps binary-suffixed literals at 2^63-1 (`8Ei` parses as 2^63-1).
const MAX_BINARY_UNITS: u128 = i64::MAX as u128;

/// The suffix family a quantity prints with (apimachinery's `Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `n u m "" k M G T P E`
    DecimalSi,
    /// `Ki Mi Gi Ti Pi Ei`
    BinarySi,
    /// `e<exponent>`
    DecimalExponent,
}

/// An exact resource quantity; see the module documentation for the representation.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

impl Quantity {
    /// Parses a quantity string. Whitespace is rejected, as `resource.ParseQuantity` does.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let bad = |problem: &'static str| QuantityError {
            text: text.to_string(),
            problem,
        };
        if text.is_empty() {
            return Err(bad("empty string"));
        }
        let bytes = text.as_bytes();
        let mut pos = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                pos += 1;
                true
            }
            Some(b'+') => {
                pos += 1;
                false
            }
            _ => false,
        };
        let digits_from = |start: usize| {
            start
                + bytes[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count()
        };
        let int_end = digits_from(pos);
        let int_part = &text[pos..int_end];
        let (frac_part, number_end) = if bytes.get(int_end) == Some(&b'.') {
            let frac_end = digits_from(int_end + 1);
            (&text[int_end + 1..frac_end], frac_end)
        } else {
            ("", int_end)
        };
        // apimachinery accepts an empty number (`.`, `-`, even a bare `Mi`) as zero; we follow.
        let suffix = &text[number_end..];
        let (base, exponent, format) = interpret_suffix(suffix).ok_or_else(|| {
            if suffix_shape_ok(suffix) {
                bad("unknown suffix (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei, or e<exponent>)")
            } else {
                bad("expected <number><suffix>, e.g. 100m, 0.5, 2Gi, 1e3")
            }
        })?;

        // Leading zeros of the integer part and trailing zeros of the fraction carry no value;
        // dropping them keeps the digit string short enough for u128 arithmetic.
        let frac_part = frac_part.trim_end_matches('0');
        let digits = format!("{}{}", int_part.trim_start_matches('0'), frac_part);
        let too_big = || bad("value out of range");
        let mantissa: u128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| too_big())?
        };
        let frac_len = i64::try_from(frac_part.len()).map_err(|_| too_big())?;

        let mut magnitude =
            magnitude_in_nanos(int_part, mantissa, frac_len, base, exponent).ok_or_else(too_big)?;
        let mut format = format;
        if format == Format::BinarySi {
            let cap = MAX_BINARY_UNITS * NANOS_PER_UNIT as u128;
            magnitude = magnitude.min(cap);
            // A binary value strictly between 0 and 1 cannot be printed with a binary suffix.
            if magnitude > 0 && magnitude < NANOS_PER_UNIT as u128 {
                format = Format::DecimalSi;
            }
        }
        let magnitude = i128::try_from(magnitude).map_err(|_| too_big())?;
        Ok(Quantity {
            nanos: if negative { -magnitude } else { magnitude },
            format,
        })
    }

    /// The value in nano-units (1 = 10^-9 of the unit: a nanocore, a nanobyte).
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }
}

/// The magnitude in nanos of `mantissa` (the digits, `frac_len` of them after the point) times
/// `base^exponent`: `mantissa * base^exponent * 10^9 / 10^frac_len`, rounded up. `None` when it
/// is out of range. `int_part` (the digits before the point) decides the binary cap when the
/// exact value is too big to compute.
fn magnitude_in_nanos(
    int_part: &str,
    mantissa: u128,
    frac_len: i64,
    base: u32,
    exponent: i64,
) -> Option<u128> {
    if mantissa == 0 {
        return Some(0);
    }
    if base == 2 {
        let scaled = pow_checked(2, exponent)
            .and_then(|p| mantissa.checked_mul(p))
            .and_then(|v| v.checked_mul(NANOS_PER_UNIT as u128));
        return match scaled {
            Some(scaled) => Some(div_ceil_pow10(scaled, frac_len)),
            // Too many digits to compute exactly; if the integer part alone reaches the
            // binary cap, the capped value is the answer anyway.
            None if int_part
                .parse::<u128>()
                .unwrap_or(u128::MAX)
                .saturating_mul(pow_checked(2, exponent).unwrap_or(u128::MAX))
                >= MAX_BINARY_UNITS =>
            {
                Some(u128::MAX)
            }
            None => None,
        };
    }
    let shift = exponent + 9 - frac_len;
    if shift >= 0 {
        pow_checked(10, shift).and_then(|p| mantissa.checked_mul(p))
    } else {
        Some(div_ceil_pow10(mantissa, -shift))
    }
}

/// A quantity that does not parse: what was given, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity {text:?}: {problem}")]
pub struct QuantityError {
    text: String,
    problem: &'static str,
}

/// `(base, exponent, format)` for a suffix, as apimachinery's suffixer interprets it.
fn interpret_suffix(suffix: &str) -> Option<(u32, i64, Format)> {
    let decimal = |e| Some((10, e, Format::DecimalSi));
    let binary = |e| Some((2, e, Format::BinarySi));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        // `E` alone is exa; only `E`/`e` followed by digits is an exponent.
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let rest = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            // Rust's integer parser accepts the same `[+-]digits` that Go's ParseInt does.
            let exponent: i64 = rest.parse().ok()?;
            Some((10, exponent, Format::DecimalExponent))
        }
    }
}

/// Whether the suffix has apimachinery's lexical shape `[eEinumkKMGTP]*[-+]?[0-9]*`; used only to
/// tell "malformed" from "unknown suffix" in error messages, as apimachinery does.
fn suffix_shape_ok(suffix: &str) -> bool {
    let rest = suffix.trim_start_matches(|c| "eEinumkKMGTP".contains(c));
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    rest.bytes().all(|b| b.is_ascii_digit())
}

fn pow_checked(base: u128, exponent: i64) -> Option<u128> {
    base.checked_pow(u32::try_from(exponent).ok()?)
}

/// `value / 10^power`, rounded up: apimachinery rounds sub-nano remainders away from zero.
fn div_ceil_pow10(value: u128, power: i64) -> u128 {
    match pow_checked(10, power) {
        Some(divisor) => value.div_ceil(divisor),
        // The divisor exceeds any u128, so a non-zero value rounds up to the smallest unit.
        None => u128::from(value > 0),
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity {
            nanos: 0,
            format: Format::DecimalSi,
        }
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Self, QuantityError> {
        Quantity::parse(text)
    }
}

impl TryFrom<&K8sQuantity> for Quantity {
    type Error = QuantityError;

    /// Trims surrounding whitespace first, as apimachinery's JSON decoding does.
    fn try_from(q: &K8sQuantity) -> Result<Self, QuantityError> {
        Quantity::parse(q.0.trim())
    }
}

impl Add for Quantity {
    type Output = Quantity;

    /// Adds values; like apimachinery, a zero left side takes the right side's format, so
    /// `0 + 64Mi` prints `64Mi`. Saturates instead of overflowing (unreachable for real amounts).
    fn add(self, other: Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_add(other.nanos),
            format: if self.nanos == 0 {
                other.format
            } else {
                self.format
            },
        }
    }
}

impl AddAssign for Quantity {
    fn add_assign(&mut self, other: Quantity) {
        *self = *self + other;
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl fmt::Display for Quantity {
    /// apimachinery's canonical form (`Quantity.String()`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let magnitude = self.nanos.unsigned_abs();
        let nanos_per_unit = NANOS_PER_UNIT as u128;
        // Binary printing needs a whole number of at least 1Ki; anything else falls back to
        // decimal so that no precision is lost.
        if self.format == Format::BinarySi
            && magnitude >= 1024 * nanos_per_unit
            && magnitude.is_multiple_of(nanos_per_unit)
        {
            let mut units = magnitude / nanos_per_unit;
            let mut power = 0;
            // Stop at Ei, the largest binary suffix; apimachinery would emit no suffix at all
            // past it (and so a wrong value), which we deliberately do not copy.
            while power < 6 && units.is_multiple_of(1024) {
                units /= 1024;
                power += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
            return write!(f, "{sign}{units}{suffix}");
        }
        // Decimal: move every factor of ten into the exponent, then step the exponent down to a
        // multiple of three (multiplying back at most the factors just removed, so no overflow).
        let mut mantissa = magnitude;
        let mut exponent: i32 = -9;
        while mantissa.is_multiple_of(10) {
            mantissa /= 10;
            exponent += 1;
        }
        while exponent.rem_euclid(3) != 0 {
            mantissa *= 10;
            exponent -= 1;
        }
        let si_suffix = match exponent {
            -9 => Some("n"),
            -6 => Some("u"),
            -3 => Some("m"),
            0 => Some(""),
            3 => Some("k"),
            6 => Some("M"),
            9 => Some("G"),
            12 => Some("T"),
            15 => Some("P"),
            18 => Some("E"),
            _ => None,
        };
        match (self.format, si_suffix) {
            (Format::DecimalExponent, _) if exponent == 0 => write!(f, "{sign}{mantissa}"),
            // DecimalSI has no suffix beyond E (10^18); apimachinery falls back to `e<exp>`.
            (Format::DecimalExponent, _) | (_, None) => {
                write!(f, "{sign}{mantissa}e{exponent}")
            }
            (_, Some(suffix)) => write!(f, "{sign}{mantissa}{suffix}"),
        }
    }
}

impl Serialize for Quantity {
    /// Serialized as its canonical string, as the API serializes quantities.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn canonical(text: &str) -> String {
        q(text).to_string()
    }

    #[test]
    fn parses_to_exact_nanos() {
        assert_eq!(q("100m").nanos(), 100_000_000);
        assert_eq!(q("0.5").nanos(), 500_000_000);
        assert_eq!(q("1").nanos(), 1_000_000_000);
        assert_eq!(q("2Gi").nanos(), 2 * (1 << 30) * NANOS_PER_UNIT);
        assert_eq!(q("512Mi").nanos(), 512 * (1 << 20) * NANOS_PER_UNIT);
        assert_eq!(q("1G").nanos(), 1_000_000_000 * NANOS_PER_UNIT);
        assert_eq!(q("1e3").nanos(), 1000 * NANOS_PER_UNIT);
        assert_eq!(q("1E-3").nanos(), 1_000_000);
        assert_eq!(q("1.3E+6").nanos(), 1_300_000 * NANOS_PER_UNIT);
        assert_eq!(q("1k").nanos(), 1000 * NANOS_PER_UNIT);
        assert_eq!(q("1Ki").nanos(), 1024 * NANOS_PER_UNIT);
        assert_eq!(q("3u").nanos(), 3000);
        assert_eq!(q("5n").nanos(), 5);
        assert_eq!(q("-1.5").nanos(), -1_500_000_000);
        assert_eq!(q("+7").nanos(), 7 * NANOS_PER_UNIT);
        assert_eq!(q("1.G").nanos(), NANOS_PER_UNIT * 1_000_000_000);
        assert_eq!(q(".001").nanos(), 1_000_000);
        assert!(q("0").is_zero());
        assert!(q("0Mi").is_zero());
        assert_eq!(
            q("1E").nanos(),
            1_000_000_000_000_000_000 * NANOS_PER_UNIT,
            "E alone is exa, not an exponent"
        );
    }

    #[test]
    fn rounds_below_nano_away_from_zero_and_caps_binary() {
        assert_eq!(q("0.9n").nanos(), 1);
        assert_eq!(q("3.001n").nanos(), 4);
        assert_eq!(q("0.00000012345").nanos(), 124);
        assert_eq!(q("-0.9n").nanos(), -1);
        assert_eq!(q("9Ei").nanos(), i64::MAX as i128 * NANOS_PER_UNIT);
        assert_eq!(q("0.000000000001Ki").to_string(), "2n");
    }

    #[test]
    fn rejects_what_apimachinery_rejects() {
        for bad in [
            "", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01e-", " 1", "1 ",
            "1K", "1e", "1Gb",
        ] {
            let err = Quantity::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("invalid quantity"), "{bad}: {err}");
        }
        assert!(
            Quantity::parse("1e400")
                .unwrap_err()
                .to_string()
                .contains("out of range")
        );
    }

    #[test]
    fn prints_canonical_form_like_kubectl() {
        for (input, expected) in [
            ("250m", "250m"),
            ("1", "1"),
            ("64Mi", "64Mi"),
            ("1.5Gi", "1536Mi"),
            ("1024Mi", "1Gi"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("1000m", "1"),
            ("1000M", "1G"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("1E-3", "1e-3"),
            ("1.2345", "1234500u"),
            ("0.5Mi", "512Ki"),
            ("1025Ki", "1025Ki"),
            ("5Ki", "5Ki"),
            ("0.5Ki", "512"),
            (".001Ki", "1024m"),
            ("16283220Ki", "16283220Ki"),
            ("128974848", "128974848"),
            ("50k", "50k"),
            ("1000E", "1e21"),
            ("12E", "12E"),
            ("-100m", "-100m"),
            ("-2Gi", "-2Gi"),
            ("0Ki", "0"),
            ("3n", "3n"),
        ] {
            assert_eq!(canonical(input), expected, "{input}");
            // The canonical form parses back to the same value and prints identically.
            assert_eq!(q(expected), q(input), "{input}");
            assert_eq!(canonical(expected), expected, "{input}");
        }
    }

    #[test]
    fn arithmetic_keeps_the_left_format_unless_left_is_zero() {
        assert_eq!((q("1Gi") + q("64Mi")).to_string(), "1088Mi");
        assert_eq!((Quantity::default() + q("64Mi")).to_string(), "64Mi");
        assert_eq!((q("100m") + q("1")).to_string(), "1100m");
        assert_eq!((q("1") + q("1Gi")).to_string(), "1073741825");
        let mut total = Quantity::default();
        total += q("250m");
        total += q("250m");
        assert_eq!(total.to_string(), "500m");
        assert_eq!(q("1Gi").max(q("1000M")).to_string(), "1Gi");
        assert!(q("1Gi") > q("1G"));
        assert_eq!(q("1Gi"), q("1073741824"));
    }

    #[test]
    fn converts_and_serializes() {
        let from_api = Quantity::try_from(&K8sQuantity(" 1.5Gi ".into())).unwrap();
        assert_eq!(from_api.to_string(), "1536Mi");
        assert_eq!(serde_json::to_string(&from_api).unwrap(), "\"1536Mi\"");
        assert_eq!("2".parse::<Quantity>().unwrap(), q("2000m"));
    }
}
