//! How far a grid row was ever written: alacritty keeps that bound (`occ`) in every row but
//! shows it only through the row's serde impl, so a tiny serializer reads that one field.
//! Freezing a 400-column row of 10 characters then reads 10 cells, not 400.

use alacritty_terminal::grid::Row;
use alacritty_terminal::index::Column;
use alacritty_terminal::term::cell::Cell;
use serde::ser::{Impossible, Serialize, SerializeStruct, Serializer};

use super::codec::is_default;

/// Cells from the returned index on are default; found reading one of them.
///
/// Alacritty guarantees that the cells from `occ` on are all equal; when the first of them
/// is default, so are they. Otherwise (or if a future alacritty renames the field) the whole
/// row counts. The cell read is the one after the written ones, most often in a cache line
/// the encoder reads anyway; the row's last cell is not.
pub(super) fn extent(row: &Row<Cell>) -> usize {
    let len = row.len();
    match occupied(row) {
        Some(occ) if occ < len && is_default(&row[Column(occ)]) => occ,
        _ => len,
    }
}

/// The row's `occ` field, if its serde impl has one.
fn occupied(row: &Row<Cell>) -> Option<usize> {
    let mut probe = Probe { occ: None };
    row.serialize(&mut probe).ok()?;
    probe.occ
}

/// Serializes a row's struct fields and keeps only `occ`; every other shape is refused.
struct Probe {
    occ: Option<usize>,
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a grid row")
    }
}

impl std::error::Error for Refused {}

impl serde::ser::Error for Refused {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Refused
    }
}

/// The `Serializer` methods neither probe accepts.
macro_rules! refuse {
    ($($name:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<$ok, Refused> { Err(Refused) })*
    };
}

macro_rules! refuse_scalars {
    ($ok:ty) => {
        refuse! {
            serialize_bool(bool) -> $ok;
            serialize_i8(i8) -> $ok;
            serialize_i16(i16) -> $ok;
            serialize_i32(i32) -> $ok;
            serialize_i64(i64) -> $ok;
            serialize_u8(u8) -> $ok;
            serialize_u16(u16) -> $ok;
            serialize_u32(u32) -> $ok;
            serialize_f32(f32) -> $ok;
            serialize_f64(f64) -> $ok;
            serialize_char(char) -> $ok;
            serialize_str(&str) -> $ok;
            serialize_bytes(&[u8]) -> $ok;
            serialize_none() -> $ok;
            serialize_unit() -> $ok;
            serialize_unit_struct(&'static str) -> $ok;
            serialize_unit_variant(&'static str, u32, &'static str) -> $ok;
            serialize_seq(Option<usize>) -> Impossible<$ok, Refused>;
            serialize_tuple(usize) -> Impossible<$ok, Refused>;
            serialize_tuple_struct(&'static str, usize) -> Impossible<$ok, Refused>;
            serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Impossible<$ok, Refused>;
            serialize_map(Option<usize>) -> Impossible<$ok, Refused>;
            serialize_struct_variant(&'static str, u32, &'static str, usize) -> Impossible<$ok, Refused>;
        }

        fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<$ok, Refused> {
            Err(Refused)
        }

        fn serialize_newtype_struct<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<$ok, Refused> {
            Err(Refused)
        }

        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<$ok, Refused> {
            Err(Refused)
        }
    };
}

impl Serializer for &mut Probe {
    type Ok = ();
    type Error = Refused;
    type SerializeSeq = Impossible<(), Refused>;
    type SerializeTuple = Impossible<(), Refused>;
    type SerializeTupleStruct = Impossible<(), Refused>;
    type SerializeTupleVariant = Impossible<(), Refused>;
    type SerializeMap = Impossible<(), Refused>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Refused>;

    refuse_scalars!(());

    fn serialize_u64(self, _: u64) -> Result<(), Refused> {
        Err(Refused)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Refused> {
        Ok(self)
    }
}

impl SerializeStruct for &mut Probe {
    type Ok = ();
    type Error = Refused;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        // The cells are skipped unread: that is the point.
        if key == "occ" {
            let occ = value.serialize(Number)?;
            self.occ = usize::try_from(occ).ok();
        }
        Ok(())
    }

    fn end(self) -> Result<(), Refused> {
        Ok(())
    }
}

/// Serializes an unsigned integer into its value.
struct Number;

impl Serializer for Number {
    type Ok = u64;
    type Error = Refused;
    type SerializeSeq = Impossible<u64, Refused>;
    type SerializeTuple = Impossible<u64, Refused>;
    type SerializeTupleStruct = Impossible<u64, Refused>;
    type SerializeTupleVariant = Impossible<u64, Refused>;
    type SerializeMap = Impossible<u64, Refused>;
    type SerializeStruct = Impossible<u64, Refused>;
    type SerializeStructVariant = Impossible<u64, Refused>;

    refuse_scalars!(u64);

    fn serialize_u64(self, v: u64) -> Result<u64, Refused> {
        Ok(v)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Refused> {
        Err(Refused)
    }
}
