//! What trace and fence GeoJSON share: parsing the text, finding the features, reading positions and
//! numbers, and turning a JSON Pointer into a line for errors.
//!
//! GeoJSON is read through `serde_json::Value` rather than the geojson crate's types so that every
//! problem can be reported per feature, with its line, in words that never echo a coordinate.

use super::json_lines::JsonLines;
use super::parse_error;
use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// A parsed GeoJSON document: its features (each with its JSON Pointer) and line lookup.
pub(crate) struct Doc<'a> {
    pub name: &'a str,
    pub lines: JsonLines,
}

/// One feature and where it is.
pub(crate) struct FeatureRef<'v> {
    pub pointer: String,
    pub feature: &'v Map<String, Value>,
}

impl<'a> Doc<'a> {
    /// Parses `text`; syntax errors carry serde_json's line. An unexpected end of file after a final
    /// newline is placed by serde_json on the empty line past the end; it is reported on the last line
    /// the file has, which is the one a reader can open.
    pub(crate) fn parse(text: &str, name: &'a str) -> Result<(Self, Value)> {
        let last_line = text.lines().count().max(1);
        let value: Value = serde_json::from_str(text)
            .map_err(|e| parse_error(name, e.line().clamp(1, last_line), json_reason(&e)))?;
        let lines = JsonLines::new(text);
        Ok((Self { name, lines }, value))
    }

    /// An error at the value `pointer` names.
    pub(crate) fn error(&self, pointer: &str, reason: impl std::fmt::Display) -> Error {
        parse_error(self.name, self.lines.line(pointer), reason)
    }

    /// The features of a FeatureCollection, or the single Feature the document is.
    pub(crate) fn features<'v>(&self, root: &'v Value) -> Result<Vec<FeatureRef<'v>>> {
        let not_geojson = "expected a GeoJSON FeatureCollection or Feature";
        let object = root
            .as_object()
            .ok_or_else(|| self.error("", not_geojson))?;
        match object.get("type").and_then(Value::as_str) {
            Some("FeatureCollection") => {
                let features = object
                    .get("features")
                    .and_then(Value::as_array)
                    .ok_or_else(|| self.error("", "FeatureCollection has no `features` array"))?;
                features
                    .iter()
                    .enumerate()
                    .map(|(i, f)| self.feature(format!("/features/{i}"), f))
                    .collect()
            }
            Some("Feature") => Ok(vec![self.feature(String::new(), root)?]),
            _ => Err(self.error("", not_geojson)),
        }
    }

    fn feature<'v>(&self, pointer: String, value: &'v Value) -> Result<FeatureRef<'v>> {
        let feature = value
            .as_object()
            .filter(|o| o.get("type").and_then(Value::as_str) == Some("Feature"))
            .ok_or_else(|| self.error(&pointer, "not a GeoJSON Feature"))?;
        Ok(FeatureRef { pointer, feature })
    }

    /// A `[lon, lat, …]` position at `pointer`, as (lon, lat). Range checks are the caller's.
    pub(crate) fn position(&self, value: &Value, pointer: &str) -> Result<(f64, f64)> {
        let bad = || {
            self.error(
                pointer,
                "a position must be an array of two or three numbers",
            )
        };
        let array = value.as_array().filter(|a| (2..=4).contains(&a.len()));
        let array = array.ok_or_else(bad)?;
        let lon = array[0].as_f64().ok_or_else(bad)?;
        let lat = array[1].as_f64().ok_or_else(bad)?;
        Ok((lon, lat))
    }

    /// An optional numeric property: absent or `null` is `None`, anything but a number is an error.
    pub(crate) fn optional_number(
        &self,
        properties: Option<&Map<String, Value>>,
        key: &str,
        pointer: &str,
    ) -> Result<Option<f64>> {
        match properties.and_then(|p| p.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.error(pointer, format!("property `{key}` must be a number"))),
        }
    }
}

impl FeatureRef<'_> {
    pub(crate) fn properties(&self) -> Option<&Map<String, Value>> {
        self.feature.get("properties").and_then(Value::as_object)
    }

    /// The geometry object and its type, or a reason why there is none.
    pub(crate) fn geometry(
        &self,
    ) -> std::result::Result<(&Map<String, Value>, &str), &'static str> {
        let geometry = self
            .feature
            .get("geometry")
            .and_then(Value::as_object)
            .ok_or("feature has no geometry")?;
        let kind = geometry
            .get("type")
            .and_then(Value::as_str)
            .ok_or("geometry has no type")?;
        Ok((geometry, kind))
    }

    pub(crate) fn pointer_to(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.pointer)
    }
}

/// serde_json's messages name the problem without quoting the input; drop its " at line X column Y"
/// suffix since our error already carries the line.
fn json_reason(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let trimmed = message
        .rfind(" at line ")
        .map_or(message.as_str(), |i| &message[..i]);
    format!("malformed JSON: {trimmed}")
}
