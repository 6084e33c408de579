//! pare's Lambda runtime API against AWS's own runtime interface client
//! for Python (`python3 -m awslambdaric app.handler`, libcurl underneath),
//! the client the serverless images of issue 11 run. Needs python3 with
//! awslambdaric (`pip install awslambdaric`): skipped locally without it,
//! a failure under CI=true.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use pare_testkit::{missing, tool};
use pare_trace::lambda::{FUNCTION_ARN, Outcome, RuntimeApi};
use pare_trace::probe::{Connector, Loopback};
use serde_json::{Value, json};

const HANDLER: &str = r#"
import json

def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {
        "hello": event.get("name"),
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "time_left": context.get_remaining_time_in_millis() > 0,
    }
"#;

fn awslambdaric() -> Option<()> {
    tool("python3")?;
    let ok = Command::new("python3")
        .args(["-c", "import awslambdaric"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(())
    } else {
        missing("python3 with awslambdaric (pip install awslambdaric)")
    }
}

/// `python3 -m awslambdaric HANDLER` in `dir`, talking to `api`.
fn function(dir: &Path, handler: &str, api: &RuntimeApi) -> Child {
    let log = std::fs::File::create(dir.join("function.log")).unwrap();
    Command::new("python3")
        .args(["-m", "awslambdaric", handler])
        .current_dir(dir)
        .env("AWS_LAMBDA_RUNTIME_API", api.address().to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("python3 starts")
}

/// Serves `events` to the function and collects the outcomes, stopping
/// early if it exits; the function is ended afterwards either way.
fn invoke(dir: &Path, handler: &str, events: Vec<Value>) -> Vec<pare_trace::lambda::Invocation> {
    let listener = Loopback.listen().unwrap();
    let api = RuntimeApi::serve(listener, events, Duration::from_secs(60)).unwrap();
    let child = Mutex::new(function(dir, handler, &api));
    let invocations = api.wait_while(&|| matches!(child.lock().unwrap().try_wait(), Ok(None)));
    let mut child = child.into_inner().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    invocations
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("function.log")).unwrap_or_default()
}

#[test]
fn awslambdaric_takes_events_and_reports_results_and_errors() {
    if awslambdaric().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), HANDLER).unwrap();
    let events = vec![
        json!({"name": "pare"}),
        json!({"fail": true}),
        json!({"name": "again"}),
    ];
    let invocations = invoke(dir.path(), "app.handler", events);
    let context = log(dir.path());
    assert_eq!(invocations.len(), 3);
    for (invocation, name) in [(&invocations[0], "pare"), (&invocations[2], "again")] {
        assert_eq!(
            invocation.outcome,
            Outcome::Response(json!({
                "hello": name,
                "request_id": invocation.request_id,
                "arn": FUNCTION_ARN,
                "time_left": true,
            })),
            "function output:\n{context}"
        );
    }
    match &invocations[1].outcome {
        Outcome::Error {
            error_type,
            error_message,
        } => {
            assert_eq!(error_type, "ValueError", "function output:\n{context}");
            assert_eq!(error_message, "asked to fail");
        }
        other => panic!("{other:?}; function output:\n{context}"),
    }
}

#[test]
fn awslambdaric_reports_a_handler_it_cannot_import_as_an_init_error() {
    if awslambdaric().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let invocations = invoke(dir.path(), "nowhere.handler", vec![json!({})]);
    let context = log(dir.path());
    match &invocations[0].outcome {
        Outcome::InitError {
            error_type,
            error_message,
        } => {
            assert_eq!(
                error_type, "Runtime.ImportModuleError",
                "function output:\n{context}"
            );
            assert!(error_message.contains("nowhere"), "{error_message}");
        }
        other => panic!("{other:?}; function output:\n{context}"),
    }
}
