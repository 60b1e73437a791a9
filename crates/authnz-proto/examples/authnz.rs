//! A small authnzerver command line: sends one request and prints the decrypted reply.
//!
//! ```text
//! cargo run -p authnz-proto --example authnz -- --url URL --key-file FILE REQUEST 'JSON_BODY'
//! cargo run -p authnz-proto --example authnz -- --url URL --key-env VAR REQUEST 'JSON_BODY'
//! ```
//!
//! The reply is printed as one line of JSON whatever `success` says; HTTP errors and
//! envelope problems go to stderr with exit status 1, bad usage exits with 2.

#![allow(clippy::print_stdout, clippy::print_stderr)] // A command line prints.

use std::process::ExitCode;

use authnz_proto::{Client, Error, FernetKey};

const USAGE: &str = "usage: authnz --url URL (--key-file FILE | --key-env VAR) REQUEST 'JSON_BODY'";

struct Args {
    url: String,
    key: FernetKey,
    request: String,
    body: serde_json::Value,
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut key = None;
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next(),
            "--key-file" => {
                let path = args.next().ok_or("--key-file needs a path")?;
                key = Some(FernetKey::from_file(&path).map_err(|e| e.to_string())?);
            }
            "--key-env" => {
                let var = args.next().ok_or("--key-env needs a variable name")?;
                key = Some(FernetKey::from_env(&var).map_err(|e| e.to_string())?);
            }
            "--help" | "-h" => return Err(String::new()),
            _ => positional.push(arg),
        }
    }
    let url = url.ok_or("--url is required")?;
    let key = key.ok_or("--key-file or --key-env is required")?;
    let [request, body] = <[String; 2]>::try_from(positional)
        .map_err(|_| "give exactly one REQUEST and one JSON_BODY")?;
    let body: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("JSON_BODY is not JSON: {e}"))?;
    if !body.is_object() {
        return Err("JSON_BODY must be a JSON object".to_owned());
    }
    Ok(Args {
        url,
        key,
        request,
        body,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("authnz: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(reply) => {
            println!("{reply}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("authnz: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<String, Error> {
    let client = Client::new(args.url, args.key)?;
    let reply = client.send_raw(&args.request, &args.body).await?;
    // `Response` serialises in the server's own key order and 0.1.3's `message` key.
    serde_json::to_string(&reply).map_err(|_| Error::Config("the reply cannot be printed"))
}
