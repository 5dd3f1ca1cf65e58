//! A small JSON reader for tests that check a program's JSON output: it
//! accepts only well-formed JSON, and finds values by a path of keys.

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value at `path`, keys separated by dots, array items by index.
    pub fn at(&self, path: &str) -> &Value {
        let mut value = self;
        for key in path.split('.').filter(|k| !k.is_empty()) {
            value = match value {
                Value::Object(fields) => {
                    &fields
                        .iter()
                        .find(|(k, _)| k == key)
                        .unwrap_or_else(|| panic!("no {key} in {path}"))
                        .1
                }
                Value::Array(items) => &items[key.parse::<usize>().unwrap()],
                _ => panic!("{path}: {key} in a scalar"),
            };
        }
        value
    }

    /// The number at `path`, as an integer.
    pub fn int(&self, path: &str) -> u64 {
        match self.at(path) {
            Value::Number(n) if n.fract() == 0.0 && *n >= 0.0 => *n as u64,
            other => panic!("{path}: not a count: {other:?}"),
        }
    }

    pub fn text(&self, path: &str) -> &str {
        match self.at(path) {
            Value::Text(t) => t,
            other => panic!("{path}: not a string: {other:?}"),
        }
    }

    pub fn len(&self, path: &str) -> usize {
        match self.at(path) {
            Value::Array(items) => items.len(),
            other => panic!("{path}: not an array: {other:?}"),
        }
    }

    pub fn keys(&self) -> Vec<&str> {
        match self {
            Value::Object(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }
}

/// Reads one JSON value, which must be all of `text` but for white space.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        b: text.as_bytes(),
        at: 0,
    };
    let value = p.value()?;
    p.space();
    if p.at != p.b.len() {
        return Err(format!("trailing text at {}", p.at));
    }
    Ok(value)
}

struct Parser<'a> {
    b: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.b.get(self.at).is_some_and(|c| c.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.space();
        if self.b.get(self.at) == Some(&c) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", c as char, self.at))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.space();
        match self.b.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                let mut fields = Vec::new();
                self.space();
                if self.b.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Ok(Value::Object(fields));
                }
                loop {
                    self.space();
                    let Value::Text(key) = self.value()? else {
                        return Err(format!("a key that is not a string at {}", self.at));
                    };
                    self.eat(b':')?;
                    fields.push((key, self.value()?));
                    self.space();
                    match self.b.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Value::Object(fields));
                        }
                        _ => return Err(format!("object not closed at {}", self.at)),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.b.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.space();
                    match self.b.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => return Err(format!("array not closed at {}", self.at)),
                    }
                }
            }
            Some(b'"') => {
                self.at += 1;
                let mut text = String::new();
                loop {
                    match *self.b.get(self.at).ok_or("string not closed")? {
                        b'"' => break,
                        b'\\' => {
                            self.at += 1;
                            match *self.b.get(self.at).ok_or("escape cut")? {
                                b'u' => {
                                    let hex =
                                        self.b.get(self.at + 1..self.at + 5).ok_or("\\u cut")?;
                                    let code =
                                        u32::from_str_radix(std::str::from_utf8(hex).unwrap(), 16)
                                            .map_err(|e| e.to_string())?;
                                    text.push(char::from_u32(code).ok_or("bad \\u")?);
                                    self.at += 4;
                                }
                                c @ (b'"' | b'\\' | b'/') => text.push(c as char),
                                b'n' => text.push('\n'),
                                b't' => text.push('\t'),
                                c => return Err(format!("escape \\{}", c as char)),
                            }
                        }
                        c if c < 0x20 => return Err("control character in a string".into()),
                        c if c.is_ascii() => text.push(c as char),
                        _ => {
                            let end = (self.at + 4).min(self.b.len());
                            let rest = String::from_utf8_lossy(&self.b[self.at..end]);
                            let c = rest.chars().next().unwrap();
                            text.push(c);
                            self.at += c.len_utf8() - 1;
                        }
                    }
                    self.at += 1;
                }
                self.at += 1;
                Ok(Value::Text(text))
            }
            Some(b'n') if self.b[self.at..].starts_with(b"null") => {
                self.at += 4;
                Ok(Value::Null)
            }
            Some(b't') if self.b[self.at..].starts_with(b"true") => {
                self.at += 4;
                Ok(Value::Bool(true))
            }
            Some(b'f') if self.b[self.at..].starts_with(b"false") => {
                self.at += 5;
                Ok(Value::Bool(false))
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.at;
                while self
                    .b
                    .get(self.at)
                    .is_some_and(|c| b"+-.eE0123456789".contains(c))
                {
                    self.at += 1;
                }
                let text = std::str::from_utf8(&self.b[start..self.at]).unwrap();
                text.parse()
                    .map(Value::Number)
                    .map_err(|_| format!("number {text}"))
            }
            _ => Err(format!("no value at {}", self.at)),
        }
    }
}
