//! The server process: listens on its socket, checks every peer, answers `ls`, `kill-*`,
//! starts sessions and attaches clients to them. It ends with its last session.

use crate::paths::Paths;
use crate::server::proto::{self, Exit, Hello, Reply, Request, kind};
use crate::server::registry::Registry;
use crate::server::session::{self, NewClient, SessionEvent};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};

/// How long a connection may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// A server that never got a session (its client died first) ends after this.
const IDLE_START: Duration = Duration::from_secs(20);

/// Run the server on `socket` until its last session ends. Started detached by a client
/// (its own session and process group, stdio on /dev/null); logs to the data dir.
pub fn serve(socket: PathBuf, paths: Paths) -> anyhow::Result<ExitCode> {
    // No core dumps and no ptrace by others of our uid: the server holds unlocked vault keys.
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    crate::app::setup::init_logging(&paths);
    // A session that panics ends alone (its clients are told the server went away); the
    // panic is in the log, since nobody sees the server's stderr.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("panic: {info}");
        previous(info);
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    let result = runtime.block_on(listen(&socket, paths, handle));
    if let Err(e) = &result {
        tracing::error!("server on {}: {e}", socket.display());
    }
    // Sessions' threads may still be ending; the runtime goes with the process.
    runtime.shutdown_timeout(Duration::from_secs(2));
    result.map(|()| ExitCode::SUCCESS)
}

async fn listen(
    socket: &Path,
    paths: Paths,
    runtime: tokio::runtime::Handle,
) -> anyhow::Result<()> {
    let dir = socket.parent().unwrap_or(Path::new("/"));
    crate::server::check_socket_dir(dir).map_err(anyhow::Error::msg)?;
    // Two clients may start a server at once: the second finds the first listening.
    if std::os::unix::net::UnixStream::connect(socket).is_ok() {
        tracing::info!("a server already listens on {}", socket.display());
        return Ok(());
    }
    let _ = std::fs::remove_file(socket);
    // SAFETY: umask only changes this process's file-creation mask.
    let old = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(socket);
    // SAFETY: as above, restoring it.
    unsafe { libc::umask(old) };
    let listener = bound?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))?;
    }
    let inode = socket_inode(socket);
    tracing::info!(
        "server {} listening on {}",
        proto::build_id(),
        socket.display()
    );
    let registry = Arc::new(Registry::default());
    let home = std::env::var_os("LUMEN_HOME").map(PathBuf::from);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let started = std::time::Instant::now();
    // Connections being answered: the server waits for them before it exits (the answer to
    // `kill-server` among them).
    let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            conn = listener.accept() => match conn {
                Ok((stream, _)) => {
                    let registry = registry.clone();
                    let paths = paths.clone();
                    let runtime = runtime.clone();
                    let socket = (socket.to_path_buf(), inode);
                    let in_flight = in_flight.clone();
                    in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::spawn(async move {
                        if let Err(e) = serve_connection(stream, &registry, paths, runtime, socket).await {
                            tracing::warn!("a client connection: {e}");
                        }
                        in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    });
                }
                Err(e) => tracing::warn!("accept: {e}"),
            },
            _ = registry.emptied() => {
                tracing::info!("the last session ended; the server exits");
                break;
            }
            _ = term.recv() => { kill_all(&registry, "SIGTERM").await; break; }
            _ = int.recv() => { kill_all(&registry, "SIGINT").await; break; }
            _ = hup.recv() => {}
            _ = tick.tick() => {
                // A test's (or script's) home deleted under a running server: nothing of it
                // can be saved any more, so its sessions end.
                if home.as_deref().is_some_and(|h| !h.exists()) {
                    kill_all(&registry, "LUMEN_HOME was removed").await;
                    break;
                }
                if registry.is_empty() && started.elapsed() > IDLE_START {
                    tracing::info!("no session was started; the server exits");
                    break;
                }
                // Our socket replaced or removed (another server took the name): end too.
                if socket_inode(socket) != inode {
                    tracing::warn!("{} is no longer this server's socket", socket.display());
                }
            }
        }
    }
    if socket_inode(socket) == inode {
        let _ = std::fs::remove_file(socket);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while in_flight.load(std::sync::atomic::Ordering::SeqCst) > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

fn socket_inode(socket: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(socket).ok().map(|m| m.ino())
}

/// End every session, telling its clients the server was killed, and wait for them.
async fn kill_all(registry: &Registry, why: &str) {
    tracing::info!("{why}: killing every session");
    for (_, route) in registry.routes() {
        let _ = route.events.send(SessionEvent::Kill(Exit::ServerKilled));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !registry.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn reply(stream: &mut UnixStream, reply: &Reply) -> std::io::Result<()> {
    proto::write_json(stream, kind::REPLY, reply).await
}

fn refused(reason: impl Into<String>) -> Reply {
    Reply::Refused {
        reason: reason.into(),
        build: proto::build_id(),
        protocol: proto::PROTOCOL,
    }
}

/// One connection: check its peer, read its hello, do what it asks.
async fn serve_connection(
    mut stream: UnixStream,
    registry: &Arc<Registry>,
    paths: Paths,
    runtime: tokio::runtime::Handle,
    (socket, inode): (PathBuf, Option<u64>),
) -> std::io::Result<()> {
    let peer = stream.peer_cred()?;
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    if peer.uid() != uid {
        tracing::warn!(
            "refused a connection from uid {} (pid {:?}): only uid {uid} may use this server",
            peer.uid(),
            peer.pid()
        );
        return Ok(());
    }
    let first = tokio::time::timeout(HELLO_TIMEOUT, proto::read_frame(&mut stream))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no hello"))??;
    let Some((kind::HELLO, payload)) = first else {
        return reply(&mut stream, &refused("the first frame must be a hello")).await;
    };
    let hello: Hello = match proto::parse("hello", &payload) {
        Ok(h) => h,
        Err(e) => return reply(&mut stream, &refused(e.to_string())).await,
    };
    if hello.protocol != proto::PROTOCOL {
        let why = format!(
            "the server speaks protocol {}, this client {}",
            proto::PROTOCOL,
            hello.protocol
        );
        return reply(&mut stream, &refused(why)).await;
    }
    if hello.build != proto::build_id() && !hello.any_build {
        return reply(&mut stream, &refused("the server runs another build")).await;
    }
    if matches!(hello.request, Request::New { .. } | Request::Attach { .. }) {
        registry.agent.set(
            hello
                .ssh_auth_sock
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        );
    }
    match hello.request {
        Request::List => {
            let sessions = registry.summaries();
            reply(&mut stream, &Reply::Sessions { sessions }).await
        }
        Request::KillServer => {
            // Done means done: the sessions have ended and the socket is gone, so the next
            // command finds no server.
            kill_all(registry, "lumen kill-server").await;
            if socket_inode(&socket) == inode {
                let _ = std::fs::remove_file(&socket);
            }
            reply(&mut stream, &Reply::Done { message: None }).await
        }
        Request::KillSession { target } => match registry.find(Some(&target)) {
            Some((session, route)) => {
                let _ = route
                    .events
                    .send(SessionEvent::Kill(Exit::SessionKilled { session }));
                reply(&mut stream, &Reply::Done { message: None }).await
            }
            None => {
                reply(
                    &mut stream,
                    &refused(format!("can't find session: {target}")),
                )
                .await
            }
        },
        Request::Attach {
            target,
            read_only,
            detach_others,
        } => match registry.find(target.as_deref()) {
            Some((_, route)) => {
                let client = NewClient {
                    id: registry.next_client_id(),
                    stream,
                    size: hello.size,
                    read_only,
                    detach_others,
                };
                let _ = route.events.send(SessionEvent::Attach(Box::new(client)));
                Ok(())
            }
            None => {
                let why = match target {
                    Some(t) => format!("can't find session: {t}"),
                    None => "no sessions".to_string(),
                };
                reply(&mut stream, &refused(why)).await
            }
        },
        Request::New {
            name,
            args,
            cwd,
            detached,
        } => {
            let agent = registry.agent.clone();
            let opts =
                match crate::cli::session_options(&args, paths, cwd.map(PathBuf::from), agent) {
                    Ok(o) => o,
                    Err(e) => return reply(&mut stream, &refused(e)).await,
                };
            if detached {
                let started =
                    session::start(registry.clone(), runtime, name, opts, hello.size, None);
                return match started {
                    Ok(_) => reply(&mut stream, &Reply::Done { message: None }).await,
                    Err(e) => reply(&mut stream, &refused(e)).await,
                };
            }
            // The stream goes to the session with the request; a refusal must come first.
            if let Some(n) = &name {
                if let Err(why) = crate::server::registry::check_name(n) {
                    return reply(&mut stream, &refused(why)).await;
                }
                if registry.find(Some(n)).is_some() {
                    return reply(&mut stream, &refused(format!("duplicate session: {n}"))).await;
                }
            }
            let client = NewClient {
                id: registry.next_client_id(),
                stream,
                size: hello.size,
                read_only: false,
                detach_others: false,
            };
            let registry = registry.clone();
            // Building a world reads files (config, vault headers, inventory): off this task.
            let started = tokio::task::spawn_blocking(move || {
                session::start(registry, runtime, name, opts, hello.size, Some(client))
            })
            .await;
            match started {
                Ok(Ok(name)) => tracing::info!("client attached to new session {name}"),
                Ok(Err(e)) => tracing::warn!("a new session failed: {e}"),
                Err(e) => tracing::warn!("a new session failed: {e}"),
            }
            Ok(())
        }
    }
}
