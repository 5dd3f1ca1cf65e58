//! `make demo`: the whole idea in a few seconds, with nothing but the Rust
//! toolchain. A demo zone is served on 127.0.0.1 by a few lines of DNS
//! server of the demo's own (`scenes.rs`); the real rmxsmtpd binary (built
//! beside this example) runs for three clients, and each SMTP transcript is
//! printed with rmxsmtpd's log line.

mod scenes;

use std::process::ExitCode;

fn main() -> ExitCode {
    // target/debug/examples/demo → target/debug/rmxsmtpd
    let rmxsmtpd = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("rmxsmtpd")))
        .filter(|path| path.exists());
    let Some(rmxsmtpd) = rmxsmtpd else {
        eprintln!("demo: no rmxsmtpd beside this program; run `make demo`");
        return ExitCode::from(111);
    };
    match scenes::play(&rmxsmtpd) {
        Ok(scenes) => {
            print!("{}", scenes::render(&scenes));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("demo: {error}");
            ExitCode::from(111)
        }
    }
}
