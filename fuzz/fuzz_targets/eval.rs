//! Captures, assertions and snapshot rendering of a fixed scenario against arbitrary
//! responses: any status, any headers, any body bytes (JSON or not, HTML or not, UTF-8 or
//! not). Each capture gives a value or a diagnostic, each assertion passes or fails; nothing
//! panics or hangs, whatever the server sends.
//!
//! Input layout: two bytes of status, then header lines (`name: value`) up to an empty line,
//! then the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;
use stepwise::http::{Response, SentRequest};
use stepwise::loader::LoadedScenario;
use stepwise::mask::Masker;
use stepwise::render::Renderer;
use stepwise::response::ResponseView;
use stepwise::template::{Templater, Vars};

const SCENARIO: &str = r#"
name: every capture and assertion
vars:
  want: widget
steps:
  - name: captures
    request:
      url: http://127.0.0.1:8080/x
    capture:
      id: $.id
      all: $..*
      deep: $.items[?@.price > 10 && @.tags[0] == 'a'].name
      sliced: {jsonpath: "$.items[1:5:2]", default: none}
      length_filter: {jsonpath: "$[?length(@.name) > 2]", default: 0}
      matched: {jsonpath: "$[?match(@.code, '[A-Z]{3}-\\d+')]", default: ""}
      searched: {jsonpath: "$..[?search(@, 'ab+c')]", default: ""}
      header: {header: content-type, regex: "charset=([\\w-]+)", default: utf-8}
      cookie: {cookie: session, default: ""}
      status: {status: true}
      body: {body: true, regex: "(?s)<title>(.*?)</title>", default: ""}
      url: {url: true}
      location: {location: true, default: ""}
      link: {css: "a.next[href^='/'], form > input[name=csrf]", attribute: href, default: ""}
      title: {css: "head title", default: ""}
      nth: {css: "ul li:nth-child(2n+1):not(.x)", default: ""}
      token: {jsonpath: "$.access_token", regex: "^([^.]+)\\.", secret: true, default: ""}
    expect:
      status: [200, 2xx, 404]
      duration: "< 5000"
      headers:
        content-type: {contains: json, matches: "^application/(.+\\+)?json"}
        x-count: {exists: true, gt: 3, le: "{{ 10 }}"}
        set-cookie: {absent: true}
      jsonpath:
        $.id: {type: integer, equals: 1, one_of: [1, 2, "3"]}
        $.name: {equals: "{{ want }}", not_equals: "", length: 6}
        $.items[*].price: {type: array, length: {gt: 0}}
        $.uuid: {is_uuid: true}
        $.when: {is_iso_datetime: true}
        $.tags: {contains: "a"}
        $.n: {lt: 10.5, ge: -1}
        $..missing: {exists: false}
      body:
        contains: "{"
        matches: "\\d+"
      that:
        - response.status == 200
        - response.json.items | length > 0
        - response.headers['content-type'] is defined and 'json' in response.headers['content-type']
        - id == 1 or status >= 400
        - response.body | length < 1000000
        - response.cookies.session is not defined
    snapshot:
      headers: [content-type, set-cookie]
      redact:
        $.id: "[id]"
        $..token: "[token]"
"#;

fn scenario() -> &'static LoadedScenario {
    static SCENARIO_LOADED: OnceLock<LoadedScenario> = OnceLock::new();
    SCENARIO_LOADED.get_or_init(|| {
        match stepwise::loader::parse(Path::new("eval.yaml"), SCENARIO.to_owned()) {
            Ok(s) => s,
            Err(e) => {
                let text: Vec<String> = e.diagnostics().iter().map(|d| d.render(false)).collect();
                panic!("the fixed scenario does not load:\n{}", text.join("\n"))
            }
        }
    })
}

/// A response from the fuzz input (see the module doc).
fn response(data: &[u8]) -> Response {
    let (status, rest) = match data {
        [a, b, rest @ ..] => (100 + u16::from_be_bytes([*a, *b]) % 900, rest),
        _ => (200, data),
    };
    let split = rest.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (&rest[..0], rest),
    };
    let headers = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    Response {
        status,
        version: "HTTP/1.1".into(),
        headers,
        body: body.to_vec(),
        url: "http://127.0.0.1:8080/x?y=1".into(),
        duration: Duration::from_millis(12),
        redirects: Vec::new(),
        jar_cookies: vec![("jar".into(), "held".into())],
        sent: SentRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:8080/x?y=1".into(),
            headers: Vec::new(),
            body: None,
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let loaded = scenario();
    static TEMPLATER: OnceLock<Templater> = OnceLock::new();
    let templater = TEMPLATER.get_or_init(Templater::new);
    let masker = Masker::new();
    let view = ResponseView::new(response(data));
    let mut vars = Vars::new();
    vars.insert("want".into(), minijinja::Value::from("widget"));
    for step in &loaded.scenario.steps {
        let s = &step.value;
        for (name, cap) in &s.capture {
            let r = Renderer {
                templater,
                vars: &vars,
                file: &loaded.file,
            };
            match stepwise::eval::capture::capture(name, cap, &view, &r) {
                Ok(v) => {
                    let text = stepwise::eval::capture::value_text(&v);
                    let _ = stepwise::eval::capture::excerpt(&text, 200);
                    if cap.secret {
                        masker.add(&text);
                    }
                    vars.insert(name.value.to_string(), v);
                }
                Err(d) => {
                    let _ = d.render(false);
                }
            }
        }
        if let Some(expect) = &s.expect {
            let mut vars = vars.clone();
            vars.insert("response".into(), view.to_value());
            let r = Renderer {
                templater,
                vars: &vars,
                file: &loaded.file,
            };
            match stepwise::eval::assert::check(expect, &view, &r, &masker) {
                Ok(results) => {
                    for a in results {
                        let _ = masker.mask(&a.actual);
                    }
                }
                Err(d) => {
                    let _ = d.render(false);
                }
            }
        }
        if let Some(spec) = &s.snapshot {
            let _ = stepwise::snapshot::content::render(spec, &view, &masker);
        }
    }
    let _ = view.response.set_cookies();
    let _ = view.response.location();
    let _ = view.cookie("session");
});
