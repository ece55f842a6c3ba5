//! Variables that come from outside a scenario: env files (`--env`, YAML or dotenv),
//! `STEPWISE_VAR_<name>` environment variables, `--var` and `--secret`, in that order of
//! precedence (later wins).

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::yaml::{self, NodeKind};
use minijinja::value::Value as MjValue;
use std::path::Path;

/// The prefix of environment variables that set scenario variables.
pub const ENV_PREFIX: &str = "STEPWISE_VAR_";

/// Reads an env file: YAML (a mapping) when it ends in `.yaml`/`.yml`, dotenv (`NAME=value`
/// lines) otherwise.
pub fn read_env_file(path: &Path) -> Result<Vec<(String, MjValue)>, Diagnostic> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::new(format!("cannot read env file `{}`: {e}", path.display())))?;
    let is_yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    );
    if is_yaml {
        parse_yaml_env(path, &text)
    } else {
        parse_dotenv(path, &text)
    }
}

fn parse_yaml_env(path: &Path, text: &str) -> Result<Vec<(String, MjValue)>, Diagnostic> {
    let file = SourceFile::new(path, text);
    let node = yaml::parse(text).map_err(|e| Diagnostic::new(e.message).at(&file, e.span))?;
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let NodeKind::Map(entries) = &node.kind else {
        return Err(
            Diagnostic::new("an env file holds a mapping of variable names to values")
                .at(&file, node.span),
        );
    };
    Ok(entries
        .iter()
        .map(|(k, v)| {
            (
                yaml::scalar_text(k),
                MjValue::from_serialize(yaml::to_json(v)),
            )
        })
        .collect())
}

fn parse_dotenv(path: &Path, text: &str) -> Result<Vec<(String, MjValue)>, Diagnostic> {
    let file = SourceFile::new(path, text);
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            let span = yaml::Span {
                start: yaml::Pos::new(i + 1, 0),
                end: yaml::Pos::new(i + 1, raw.chars().count()),
            };
            return Err(Diagnostic::new("expected `NAME=value`").at(&file, span));
        };
        let value = value.trim();
        let value = if value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')))
        {
            &value[1..value.len() - 1]
        } else {
            value
        };
        out.push((name.trim().to_owned(), MjValue::from(value)));
    }
    Ok(out)
}

/// `name=value` from the command line.
pub fn parse_assignment(text: &str) -> Result<(String, MjValue), Diagnostic> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), MjValue::from(value)))
        }
        _ => Err(Diagnostic::new(format!("`{text}` is not `name=value`"))),
    }
}

/// `STEPWISE_VAR_<name>` variables of the process environment.
pub fn from_environment() -> Vec<(String, MjValue)> {
    let mut vars: Vec<(String, MjValue)> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            let name = k.strip_prefix(ENV_PREFIX)?;
            Some((name.to_owned(), MjValue::from(v.into_string().ok()?)))
        })
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines() {
        let vars = parse_dotenv(
            Path::new("x.env"),
            "# c\nA=1\nexport B=\"two words\"\n\nC='x=y'\n",
        )
        .unwrap();
        let names: Vec<_> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(names, vec!["A=1", "B=two words", "C=x=y"]);
        assert!(parse_dotenv(Path::new("x.env"), "oops\n").is_err());
    }
}
