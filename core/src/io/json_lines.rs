//! Line numbers for places inside a JSON document, so GeoJSON errors can name the line of the offending
//! feature or coordinate. serde_json reports lines only for syntax errors; once the text has parsed, this
//! second, cheap pass walks it and records the line where each container value (and each non-numeric
//! array element, e.g. a `coordTimes` string) starts, keyed by its JSON Pointer (`/features/3/geometry`).
//! Plain numbers are not recorded: a trace has one per coordinate and the pair's line is enough.
//!
//! It assumes syntactically valid JSON (run it only after serde_json accepted the text); on anything
//! else it stops early and lookups fall back to the nearest recorded ancestor, or line 1.

use std::collections::HashMap;

pub(crate) struct JsonLines {
    lines: HashMap<String, usize>,
}

impl JsonLines {
    pub(crate) fn new(text: &str) -> Self {
        let mut walker = Walker {
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            path: String::new(),
            lines: HashMap::new(),
        };
        walker.value();
        Self {
            lines: walker.lines,
        }
    }

    /// The line where the value at `pointer` starts; if it was not recorded, its nearest recorded
    /// ancestor's line; line 1 at worst.
    pub(crate) fn line(&self, pointer: &str) -> usize {
        let mut p = pointer;
        loop {
            if let Some(&line) = self.lines.get(p) {
                return line;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return 1,
            }
        }
    }
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    /// JSON Pointer of the value being walked.
    path: String,
    lines: HashMap<String, usize>,
}

impl Walker<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    /// Walks one value starting at the current position (after whitespace).
    fn value(&mut self) {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                self.string();
            }
            Some(_) => self.scalar(),
            None => {}
        }
    }

    fn record(&mut self) {
        self.lines.insert(self.path.clone(), self.line);
    }

    fn object(&mut self) {
        self.pos += 1; // '{'
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') => {
                    self.pos += 1;
                    return;
                }
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                _ => return,
            }
            let key = self.string();
            self.skip_ws();
            if self.peek() != Some(b':') {
                return;
            }
            self.pos += 1;
            self.skip_ws();
            let saved = self.path.len();
            self.path.push('/');
            self.path.push_str(&key);
            if matches!(self.peek(), Some(b'{') | Some(b'[')) {
                self.record();
            }
            self.value();
            self.path.truncate(saved);
        }
    }

    fn array(&mut self) {
        self.pos += 1; // '['
        let mut index = 0usize;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return;
                }
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                None => return,
                Some(b) => {
                    let saved = self.path.len();
                    self.path.push('/');
                    self.path.push_str(&index.to_string());
                    if !(b == b'-' || b.is_ascii_digit()) {
                        self.record();
                    }
                    self.value();
                    self.path.truncate(saved);
                    index += 1;
                }
            }
        }
    }

    /// Skips a string and returns its raw contents (escapes left as written; JSON strings never
    /// contain raw newlines, so the line does not change).
    fn string(&mut self) -> String {
        self.pos += 1; // opening quote
        let start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'\\' => self.pos += 2,
                b'"' => {
                    let raw = String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned();
                    self.pos += 1;
                    return raw;
                }
                _ => self.pos += 1,
            }
        }
        String::new()
    }

    /// Numbers, true, false, null: run to the next delimiter.
    fn scalar(&mut self) {
        while let Some(b) = self.peek() {
            if matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace() {
                return;
            }
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::JsonLines;

    #[test]
    fn records_lines_of_features_and_coordinates() {
        let text = "{\"type\": \"FeatureCollection\",\n \"features\": [\n  {\"a\": 1},\n  {\"geometry\":\n   {\"coordinates\": [\n     [1, 2],\n     [3, 4]]}}\n]}";
        let lines = JsonLines::new(text);
        assert_eq!(lines.line("/features"), 2);
        assert_eq!(lines.line("/features/0"), 3);
        assert_eq!(lines.line("/features/1"), 4);
        assert_eq!(lines.line("/features/1/geometry"), 5);
        assert_eq!(lines.line("/features/1/geometry/coordinates/0"), 6);
        assert_eq!(lines.line("/features/1/geometry/coordinates/1"), 7);
        // A number is not recorded: its pair's line is the answer.
        assert_eq!(lines.line("/features/1/geometry/coordinates/1/0"), 7);
        assert_eq!(lines.line("/nothing/here"), 1);
    }

    #[test]
    fn strings_with_escaped_quotes_and_brackets_do_not_confuse_it() {
        let text = "[\"a\\\"]\",\n {\"k\": \"}\"},\n [1]]";
        let lines = JsonLines::new(text);
        assert_eq!(lines.line("/0"), 1);
        assert_eq!(lines.line("/1"), 2);
        assert_eq!(lines.line("/2"), 3);
    }
}
