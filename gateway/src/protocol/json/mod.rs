//! The JSON hub protocol: one JSON object per record, records ended by 0x1E.
//!
//! Reading accepts what the JS client sends (any property order, `type` usually last, headers
//! ignored). Writing reproduces .NET's output byte for byte, because clients and their tests are
//! written against .NET: fixed property order, optional properties left out rather than `null`.

mod decode;
mod encode;

pub(crate) use decode::{decode, parse_object};
pub(crate) use encode::{encode, encode_invocation, write_string};

/// Ends every JSON record, the handshake included.
pub(crate) const RECORD_SEPARATOR: u8 = 0x1E;
