//! Templates and expressions as scenario authors write them, against a fixed set of variables
//! (strings, numbers, lists, nested JSON, a response): rendering, typed rendering, the three
//! kinds of evaluation, and the variable listing `validate` uses. Each must give a value or a
//! `TemplateError`; a template that loops for long runs out of fuel (template::TEMPLATE_FUEL).

#![no_main]

use libfuzzer_sys::fuzz_target;
use minijinja::Value;
use std::sync::OnceLock;
use stepwise::template::{Templater, Vars};

fn vars() -> &'static Vars {
    static VARS: OnceLock<Vars> = OnceLock::new();
    VARS.get_or_init(|| {
        let mut v = Vars::new();
        v.insert("base".into(), Value::from("http://127.0.0.1:8080/api"));
        v.insert("n".into(), Value::from(42));
        v.insert("big".into(), Value::from(i64::MAX));
        v.insert("neg".into(), Value::from(i64::MIN));
        v.insert("f".into(), Value::from(1.5));
        v.insert("empty".into(), Value::from(""));
        v.insert("none".into(), Value::from(()));
        v.insert("yes".into(), Value::from(true));
        v.insert("token".into(), Value::from("eyJhbGciOi.J9{{x}}%41+/="));
        v.insert("unicode".into(), Value::from("é😀\u{0}\u{202e}"));
        v.insert("list".into(), Value::from(vec![1, 2, 3]));
        v.insert(
            "json".into(),
            Value::from_serialize(serde_json::json!({
                "a": {"b": [1, "two", null, {"c": 3.5}]},
                "items": [{"id": 1, "name": "x"}, {"id": 2, "name": "y"}],
                "s": "text", "t": true
            })),
        );
        v.insert("base-url".into(), Value::from("http://dashed"));
        v
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    static TEMPLATER: OnceLock<Templater> = OnceLock::new();
    let t = TEMPLATER.get_or_init(Templater::new);
    let v = vars();
    match mode % 5 {
        0 => {
            let _ = t.render_str(text, v);
            let _ = t.template_variables(text);
        }
        1 => {
            let _ = t.render_typed(text, v);
        }
        2 => {
            let _ = t.eval(text, v);
            let _ = t.expression_variables(text);
        }
        3 => {
            let _ = t.eval_bool(text, v);
        }
        _ => {
            let _ = t.eval_condition(text, v);
        }
    }
    let _ = stepwise::template::single_expression(text);
    let _ = stepwise::template::guarded(text, "json");
});
