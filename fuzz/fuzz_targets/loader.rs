//! Scenario text as a user may write it (or a broken editor may save it): the YAML reader,
//! the loader's checks, `validate`'s checks, and the rendering of every diagnostic. Any input
//! must end in `Ok` or in diagnostics, never a panic, a hang or an exhausted stack.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = stepwise::yaml::parse(text);
    // A folder that does not exist: relative `include`s resolve to nothing, so a run does not
    // depend on the files around it.
    let path = Path::new("/nonexistent/stepwise-fuzz/scenario.yaml");
    match stepwise::loader::parse(path, text.to_owned()) {
        Ok(loaded) => {
            let _ = loaded.name();
            for d in stepwise::validate::validate_loaded(&loaded, &[]) {
                let _ = d.render(false);
            }
        }
        Err(e) => {
            for d in e.diagnostics() {
                let _ = d.render(true);
                let _ = d.position();
            }
        }
    }
});
