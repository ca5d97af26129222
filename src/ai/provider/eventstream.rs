//! The `text/event-stream` format (the WHATWG server-sent events rules), read in time linear
//! in its length: each byte is looked at once when finding line ends, and a line or an
//! event's data longer than a cap stops the reading, so whatever `base_url` reaches cannot
//! make lumen spend unbounded time or memory on one event.

/// The longest line, and the most data one event may gather. Provider events are a few KB
/// (a whole Gemini function call, a thought signature); this is far above any of them.
pub(crate) const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// One event: its name ("message" unless the server named it) and its data lines, joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub name: String,
    pub data: String,
}

/// Why the stream cannot be read on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// A line went past the cap without ending.
    LineTooLong { limit: usize },
    /// One event's data lines together went past the cap.
    EventTooLong { limit: usize },
    /// A line is not UTF-8.
    NotUtf8,
}

/// Reads chunks as they arrive and hands on every complete event.
pub(crate) struct Parser {
    limit: usize,
    /// Bytes not yet part of a complete line.
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no line end.
    scanned: usize,
    /// The last line ended with CR: a LF first thing in the next chunk belongs to it.
    after_cr: bool,
    started: bool,
    name: String,
    data: String,
    has_data: bool,
}

impl Parser {
    /// A parser refusing lines and events longer than `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            buf: Vec::new(),
            scanned: 0,
            after_cr: false,
            started: false,
            name: String::new(),
            data: String::new(),
            has_data: false,
        }
    }

    /// Take in the next chunk; complete events go to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Event>) -> Result<(), ParseError> {
        let mut chunk = chunk;
        if self.after_cr && !chunk.is_empty() {
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
            self.after_cr = false;
        }
        self.buf.extend_from_slice(chunk);
        let buf = std::mem::take(&mut self.buf);
        let mut start = 0;
        let result = loop {
            let from = start.max(self.scanned);
            let Some(i) = buf[from..].iter().position(|&b| b == b'\n' || b == b'\r') else {
                self.scanned = buf.len();
                break Ok(());
            };
            let end = from + i;
            let mut next = end + 1;
            if buf[end] == b'\r' {
                match buf.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if let Err(e) = self.line(&buf[start..end], out) {
                break Err(e);
            }
            start = next;
            self.scanned = start;
        };
        self.buf = buf;
        // Only what follows the last line end moves: bytes of this chunk, so the copy is
        // linear in the chunk, not in the line.
        self.buf.drain(..start);
        self.scanned -= start;
        result?;
        if self.buf.len() > self.limit {
            return Err(ParseError::LineTooLong { limit: self.limit });
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<Event>) -> Result<(), ParseError> {
        if line.len() > self.limit {
            return Err(ParseError::LineTooLong { limit: self.limit });
        }
        let mut line = std::str::from_utf8(line).map_err(|_| ParseError::NotUtf8)?;
        if !self.started {
            self.started = true;
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.is_empty() {
            let name = std::mem::take(&mut self.name);
            let data = std::mem::take(&mut self.data);
            if std::mem::take(&mut self.has_data) {
                out.push(Event {
                    name: if name.is_empty() {
                        "message".into()
                    } else {
                        name
                    },
                    data,
                });
            }
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.name = value.to_string(),
            "data" => {
                if self.data.len() + value.len() + 1 > self.limit {
                    return Err(ParseError::EventTooLong { limit: self.limit });
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // id and retry matter to browsers reconnecting; lumen never reconnects.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&[u8]]) -> Result<Vec<Event>, ParseError> {
        let mut p = Parser::new(64);
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out)?;
        }
        Ok(out)
    }

    fn ev(name: &str, data: &str) -> Event {
        Event {
            name: name.into(),
            data: data.into(),
        }
    }

    #[test]
    fn every_line_ending_and_every_split_gives_the_same_events() {
        let text = "\u{feff}: comment\nevent: ping\ndata: {\"a\":1}\n\ndata: x\ndata:y\r\n\r\ndata: é\r\rid: 4\nretry: 9\ndata\n\nevent: cut";
        let want = vec![
            ev("ping", "{\"a\":1}"),
            ev("message", "x\ny"),
            ev("message", "é"),
            ev("message", ""),
        ];
        let bytes = text.as_bytes();
        assert_eq!(parse(&[bytes]).unwrap(), want);
        for cut in 1..bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(parse(&[a, b]).unwrap(), want, "split at {cut}");
        }
        let ones: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(parse(&ones).unwrap(), want);
    }

    #[test]
    fn a_line_or_an_event_past_the_cap_is_refused() {
        let long = vec![b'a'; 65];
        assert_eq!(
            parse(&[b"data: ", &long[..30], &long[30..]]),
            Err(ParseError::LineTooLong { limit: 64 })
        );
        let mut whole = b"data: ".to_vec();
        whole.extend_from_slice(&long);
        whole.extend_from_slice(b"\n\n");
        assert_eq!(parse(&[&whole]), Err(ParseError::LineTooLong { limit: 64 }));
        let lines = "data: 0123456789012345678901234567890\n".repeat(3);
        assert_eq!(
            parse(&[lines.as_bytes()]),
            Err(ParseError::EventTooLong { limit: 64 })
        );
        assert_eq!(parse(&[b"data: \xff\n\n"]), Err(ParseError::NotUtf8));
        // Many short events in one chunk are fine: the cap is per line and per event.
        let many = "data: 1\n\n".repeat(1000);
        assert_eq!(parse(&[many.as_bytes()]).unwrap().len(), 1000);
    }
}
