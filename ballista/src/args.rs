//! The few `--flag value` pairs the two binaries take (no clap: two binaries, a handful of
//! flags, and no help text worth a dependency).

use std::collections::HashMap;

/// `--name value` pairs, each name one of `known`.
pub struct Args {
    values: HashMap<String, String>,
}

impl Args {
    /// Parses the process's arguments; `Err` is a message for the user.
    pub fn parse(known: &[&str]) -> Result<Args, String> {
        let mut values = HashMap::new();
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let Some(name) = flag.strip_prefix("--") else {
                return Err(format!("unexpected argument {flag:?}"));
            };
            if !known.contains(&name) {
                return Err(format!(
                    "unknown flag --{name}; the flags are --{}",
                    known.join(", --")
                ));
            }
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            values.insert(name.to_owned(), value);
        }
        Ok(Args { values })
    }

    /// The value of `--name`, or `default`.
    pub fn get(&self, name: &str, default: &str) -> String {
        self.values
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    /// The value of `--name` parsed as a number, or `default`.
    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name} {v:?}: expected a number")),
        }
    }
}
