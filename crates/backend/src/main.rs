//! `ringside-backend --listen HOST:PORT [--db PATH]`: the reference backend as a process.

use std::net::SocketAddr;
use std::path::PathBuf;

fn usage() -> ! {
    eprintln!("usage: ringside-backend --listen HOST:PORT [--db PATH]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut listen: Option<SocketAddr> = None;
    let mut db: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().and_then(|v| v.parse().ok()),
            "--db" => db = args.next().map(PathBuf::from),
            _ => usage(),
        }
    }
    let Some(listen) = listen else { usage() };
    let db = db.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ringside-backend-{}.db", std::process::id()))
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    // Tests read this line to learn the port when they ask for port 0.
    println!("listening on http://{addr}");
    ringside_backend::serve(listener, &db).await
}
