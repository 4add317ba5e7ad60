//! Reading MessagePack data into `serde_json::Value`, so hub code binds arguments the same way
//! whichever protocol carried them.
//!
//! Hand-written rather than a generic decoder because input is hostile: every length is checked
//! against the bytes actually left before anything is allocated, and nesting is bounded, so a
//! 30-byte record claiming a four-billion-element array or ten thousand nested arrays costs
//! nothing. Types JSON lacks are mapped as .NET's JSON side would see them: binary as base64
//! text, the timestamp extension as an RFC 3339 string.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Number, Value};

use crate::protocol::error::ProtocolError;

/// Deeper nesting than any real payload; bounds recursion on hostile input.
const MAX_DEPTH: usize = 64;
/// The MessagePack extension type of timestamps (what `@msgpack/msgpack` writes for `Date`).
const TIMESTAMP_EXTENSION: i8 = -1;

/// A cursor over one record's body.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

fn malformed(text: &str) -> ProtocolError {
    ProtocolError::MalformedBinary(text.to_owned())
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    /// Whether every byte was consumed.
    pub(super) fn is_at_end(&self) -> bool {
        self.position == self.bytes.len()
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .position
            .checked_add(count)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| malformed("unexpected end of data"))?;
        let taken = &self.bytes[self.position..end];
        self.position = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn length(&mut self, width: usize) -> Result<usize, ProtocolError> {
        let length = match width {
            1 => u64::from(self.byte()?),
            2 => u64::from(u16::from_be_bytes(self.be()?)),
            _ => u64::from(u32::from_be_bytes(self.be()?)),
        };
        usize::try_from(length).map_err(|_| malformed("length does not fit"))
    }

    /// Elements of an array or map each take at least one byte: a longer claim is a lie.
    fn count(&self, claimed: usize, bytes_per_item: usize) -> Result<usize, ProtocolError> {
        let left = self.bytes.len() - self.position;
        if claimed.saturating_mul(bytes_per_item) > left {
            return Err(malformed("collection longer than the data"));
        }
        Ok(claimed)
    }

    /// Reads an array header, returning its element count.
    pub(super) fn array_len(&mut self) -> Result<usize, ProtocolError> {
        let claimed = match self.byte()? {
            marker @ 0x90..=0x9f => usize::from(marker & 0x0f),
            0xdc => self.length(2)?,
            0xdd => self.length(4)?,
            _ => return Err(malformed("expected an array")),
        };
        self.count(claimed, 1)
    }

    /// Reads any value.
    pub(super) fn value(&mut self) -> Result<Value, ProtocolError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, ProtocolError> {
        if depth > MAX_DEPTH {
            return Err(malformed("nesting too deep"));
        }
        let marker = self.byte()?;
        Ok(match marker {
            0x00..=0x7f => Value::from(marker),
            0xe0..=0xff => Value::from(i8::from_be_bytes([marker])),
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xcc => Value::from(self.byte()?),
            0xcd => Value::from(u16::from_be_bytes(self.be()?)),
            0xce => Value::from(u32::from_be_bytes(self.be()?)),
            0xcf => Value::from(u64::from_be_bytes(self.be()?)),
            0xd0 => Value::from(i8::from_be_bytes(self.be()?)),
            0xd1 => Value::from(i16::from_be_bytes(self.be()?)),
            0xd2 => Value::from(i32::from_be_bytes(self.be()?)),
            0xd3 => Value::from(i64::from_be_bytes(self.be()?)),
            0xca => float(f64::from(f32::from_be_bytes(self.be()?))),
            0xcb => float(f64::from_be_bytes(self.be()?)),
            0xa0..=0xbf => self.text(usize::from(marker & 0x1f))?,
            0xd9 => self.sized_text(1)?,
            0xda => self.sized_text(2)?,
            0xdb => self.sized_text(4)?,
            0xc4 => self.binary(1)?,
            0xc5 => self.binary(2)?,
            0xc6 => self.binary(4)?,
            0x90..=0x9f => self.array(usize::from(marker & 0x0f), depth)?,
            0xdc => {
                let claimed = self.length(2)?;
                self.array(claimed, depth)?
            }
            0xdd => {
                let claimed = self.length(4)?;
                self.array(claimed, depth)?
            }
            0x80..=0x8f => self.map(usize::from(marker & 0x0f), depth)?,
            0xde => {
                let claimed = self.length(2)?;
                self.map(claimed, depth)?
            }
            0xdf => {
                let claimed = self.length(4)?;
                self.map(claimed, depth)?
            }
            0xd4 => self.extension(1)?,
            0xd5 => self.extension(2)?,
            0xd6 => self.extension(4)?,
            0xd7 => self.extension(8)?,
            0xd8 => self.extension(16)?,
            0xc7 => {
                let length = self.length(1)?;
                self.extension(length)?
            }
            0xc8 => {
                let length = self.length(2)?;
                self.extension(length)?
            }
            0xc9 => {
                let length = self.length(4)?;
                self.extension(length)?
            }
            0xc1 => return Err(malformed("reserved marker 0xc1")),
        })
    }

    fn text(&mut self, length: usize) -> Result<Value, ProtocolError> {
        let bytes = self.take(length)?;
        std::str::from_utf8(bytes)
            .map(|text| Value::String(text.to_owned()))
            .map_err(|_| malformed("string is not UTF-8"))
    }

    fn sized_text(&mut self, width: usize) -> Result<Value, ProtocolError> {
        let length = self.length(width)?;
        self.text(length)
    }

    fn binary(&mut self, width: usize) -> Result<Value, ProtocolError> {
        let length = self.length(width)?;
        Ok(Value::String(STANDARD.encode(self.take(length)?)))
    }

    fn array(&mut self, claimed: usize, depth: usize) -> Result<Value, ProtocolError> {
        let count = self.count(claimed, 1)?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(self.value_at(depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, claimed: usize, depth: usize) -> Result<Value, ProtocolError> {
        let count = self.count(claimed, 2)?;
        let mut map = Map::new();
        for _ in 0..count {
            let key = match self.value_at(depth + 1)? {
                Value::String(key) => key,
                Value::Number(number) => number.to_string(),
                _ => return Err(malformed("map key is not a string or number")),
            };
            let value = self.value_at(depth + 1)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }

    fn extension(&mut self, length: usize) -> Result<Value, ProtocolError> {
        let kind = i8::from_be_bytes(self.be()?);
        let data = self.take(length)?;
        if kind != TIMESTAMP_EXTENSION {
            return Err(malformed("unsupported extension type"));
        }
        timestamp(data).ok_or_else(|| malformed("invalid timestamp"))
    }
}

/// JSON has no NaN or infinity; those become `null`, as serde_json does.
fn float(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// The three timestamp layouts of the MessagePack spec (32, 64 and 96 bit).
fn timestamp(data: &[u8]) -> Option<Value> {
    let (seconds, nanos) = match data.len() {
        4 => (i64::from(u32::from_be_bytes(data.try_into().ok()?)), 0),
        8 => {
            let packed = u64::from_be_bytes(data.try_into().ok()?);
            let nanos = u32::try_from(packed >> 34).ok()?;
            (i64::try_from(packed & 0x3_FFFF_FFFF).ok()?, nanos)
        }
        12 => {
            let nanos = u32::from_be_bytes(data.get(..4)?.try_into().ok()?);
            (i64::from_be_bytes(data.get(4..)?.try_into().ok()?), nanos)
        }
        _ => return None,
    };
    let time = chrono::DateTime::from_timestamp(seconds, nanos)?;
    Some(Value::String(
        time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(bytes: &[u8]) -> Result<Value, ProtocolError> {
        let mut reader = Reader::new(bytes);
        let value = reader.value()?;
        assert!(reader.is_at_end(), "trailing bytes in {bytes:02x?}");
        Ok(value)
    }

    #[test]
    fn scalars_of_every_width_are_read() {
        let cases: [(&[u8], Value); 14] = [
            (&[0x2a], json!(42)),
            (&[0xff], json!(-1)),
            (&[0xc0], Value::Null),
            (&[0xc3], json!(true)),
            (&[0xcc, 0xff], json!(255)),
            (&[0xcd, 0x01, 0x00], json!(256)),
            (&[0xce, 0, 1, 0, 0], json!(65_536)),
            (&[0xcf, 0, 0, 0, 1, 0, 0, 0, 0], json!(4_294_967_296_u64)),
            (&[0xd0, 0x80], json!(-128)),
            (&[0xd1, 0xff, 0x00], json!(-256)),
            (
                &[0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
                json!(-2),
            ),
            (&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], json!(1.5)),
            (&[0xa2, b'h', b'i'], json!("hi")),
            (&[0xc4, 0x02, 0x01, 0x02], json!("AQI=")),
        ];
        for (bytes, expected) in cases {
            assert_eq!(read(bytes), Ok(expected), "{bytes:02x?}");
        }
    }

    #[test]
    fn maps_and_arrays_become_json_objects_and_arrays() {
        // {"name": "Milk", "quantity": [1, nil]}
        let bytes = [
            0x82, 0xa4, b'n', b'a', b'm', b'e', 0xa4, b'M', b'i', b'l', b'k', 0xa8, b'q', b'u',
            b'a', b'n', b't', b'i', b't', b'y', 0x92, 0x01, 0xc0,
        ];
        assert_eq!(
            read(&bytes),
            Ok(json!({"name": "Milk", "quantity": [1, null]}))
        );
    }

    #[test]
    fn a_js_date_becomes_an_rfc_3339_string() {
        // 2021-01-01T00:00:00Z as the 32-bit timestamp extension.
        let bytes = [0xd6, 0xff, 0x5f, 0xee, 0x66, 0x00];
        assert_eq!(read(&bytes), Ok(json!("2021-01-01T00:00:00Z")));
    }

    #[test]
    fn hostile_lengths_and_nesting_fail_without_allocating() {
        assert!(read(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(read(&[0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0]).is_err());
        assert!(read(&[0xdb, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(read(&[0x91; 1000]).is_err());
        assert!(read(&[0xc1]).is_err());
        assert!(read(&[0xa2, 0xff, 0xfe]).is_err());
        assert!(read(&[0xd4, 0x05, 0x00]).is_err());
    }
}
