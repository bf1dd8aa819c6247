//! An incremental parser for server-sent events (the `text/event-stream` of `GET /driver/events`).
//! Bytes go in as the network delivers them — an event, a line, even a UTF-8 character may be split
//! across chunks — and complete events come out. Lines end with `\n` or `\r\n`; `:` lines are comments
//! (the server's keep-alives); `id:`, `event:` and `data:` fields build the event and a blank line
//! dispatches it. Unknown fields are ignored, as the SSE specification asks. Anything that cannot be an
//! event stream (bytes that are not UTF-8, a line longer than any event the server sends) is a typed
//! error, so the caller drops the connection instead of buffering garbage forever.

/// The longest line accepted. The server's largest event (an offer) is well under 8 KiB.
pub const MAX_LINE: usize = 64 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The stream's last event id when this event was dispatched (SSE ids persist until replaced).
    pub id: Option<String>,
    /// `event:` (defaults to `message`).
    pub kind: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("the event stream sent a line longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("the event stream sent bytes that are not UTF-8")]
    NotUtf8,
}

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the line not yet terminated.
    pending: Vec<u8>,
    last_id: Option<String>,
    kind: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one chunk; returns the events it completed. After an error the parser must be discarded
    /// (the connection is dropped and a new one starts from the last event id).
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut events = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            self.pending.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            let mut line = std::mem::take(&mut self.pending);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.check_len(line.len())?;
            let line = String::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        self.pending.extend_from_slice(rest);
        self.check_len(self.pending.len())?;
        Ok(events)
    }

    fn check_len(&self, len: usize) -> Result<(), SseError> {
        if len > MAX_LINE {
            Err(SseError::LineTooLong { limit: MAX_LINE })
        } else {
            Ok(())
        }
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => self.data.push(value.to_owned()),
            "event" => self.kind = Some(value.to_owned()),
            // An id with NUL is ignored (specification); an empty one resets the last id.
            "id" if !value.contains('\0') => {
                self.last_id = (!value.is_empty()).then(|| value.to_owned());
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let kind = self.kind.take();
        if self.data.is_empty() {
            // No data: nothing to dispatch (only the id, already kept, survives).
            return None;
        }
        let data = std::mem::take(&mut self.data).join("\n");
        Some(SseEvent {
            id: self.last_id.clone(),
            kind: kind
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| "message".to_owned()),
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FEED: &str = ": keep-alive\n\nid: 7\nevent: unassigned\ndata: {\"orderId\":\"o-1\",\r\ndata: \"reason\":\"pickup_timeout\"}\n\n:\nevent: offer\ndata:x\nretry: 10\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            SseEvent {
                id: Some("7".to_owned()),
                kind: "unassigned".to_owned(),
                data: "{\"orderId\":\"o-1\",\n\"reason\":\"pickup_timeout\"}".to_owned(),
            },
            SseEvent {
                id: Some("7".to_owned()),
                kind: "offer".to_owned(),
                data: "x".to_owned(),
            },
        ]
    }

    fn parse_in(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(parser.push(chunk)?);
        }
        Ok(out)
    }

    #[test]
    fn whole_feed_with_comments_multiline_data_and_unknown_fields() {
        assert_eq!(parse_in(&[FEED.as_bytes()]), Ok(expected()));
    }

    #[test]
    fn one_byte_at_a_time_gives_the_same_events() {
        let bytes: Vec<&[u8]> = FEED.as_bytes().chunks(1).collect();
        assert_eq!(parse_in(&bytes), Ok(expected()));
    }

    #[test]
    fn an_event_without_a_blank_line_is_not_dispatched_yet() {
        let mut parser = SseParser::new();
        assert_eq!(parser.push(b"id: 1\nevent: offer\ndata: a\n"), Ok(vec![]));
        let done = parser.push(b"\n").unwrap_or_default();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].data, "a");
    }

    #[test]
    fn a_field_without_colon_and_default_kind() {
        let events = parse_in(&[b"data\n\n"]).unwrap_or_default();
        assert_eq!(
            events,
            vec![SseEvent {
                id: None,
                kind: "message".to_owned(),
                data: String::new(),
            }]
        );
    }

    #[test]
    fn an_id_only_block_updates_the_id_without_an_event() {
        let events = parse_in(&[b"id: 5\n\ndata: a\n\nid\ndata: b\n\n"]).unwrap_or_default();
        assert_eq!(events[0].id.as_deref(), Some("5"));
        assert_eq!(events[1].id, None, "an empty id resets the last id");
    }

    #[test]
    fn a_character_split_across_chunks_is_kept() {
        let text = "data: München\n\n".as_bytes();
        let split = text.iter().position(|b| *b >= 0x80).unwrap_or(0) + 1;
        let events = parse_in(&[&text[..split], &text[split..]]).unwrap_or_default();
        assert_eq!(events[0].data, "München");
    }

    #[test]
    fn garbage_is_a_typed_error() {
        assert_eq!(parse_in(&[b"data: \xff\xfe\n"]), Err(SseError::NotUtf8));
        let long = vec![b'a'; MAX_LINE + 1];
        assert_eq!(
            parse_in(&[&long]),
            Err(SseError::LineTooLong { limit: MAX_LINE })
        );
    }

    proptest! {
        /// Any split of a valid feed yields the same events as the whole feed.
        #[test]
        fn chunk_boundaries_do_not_matter(cuts in proptest::collection::vec(0usize..200, 0..8)) {
            let bytes = FEED.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut start = 0;
            for cut in cuts {
                chunks.push(&bytes[start..cut]);
                start = cut;
            }
            chunks.push(&bytes[start..]);
            prop_assert_eq!(parse_in(&chunks), Ok(expected()));
        }

        /// Arbitrary bytes never panic, and give the same answer (events or typed error) however they
        /// are split.
        #[test]
        fn arbitrary_bytes_parse_the_same_in_any_chunking(
            bytes in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
            prop_assert_eq!(parse_in(&[&bytes]), parse_in(&bytewise));
        }
    }
}
