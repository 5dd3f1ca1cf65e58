//! Every call into the C library, in one place: the only module allowed
//! `unsafe` code. Each function is a small safe wrapper that checks what it
//! is given and turns the C library's `-1` and `errno` into an
//! [`io::Error`]; the rest of the crate denies `unsafe` outright.

use std::ffi::{CStr, CString, OsString};
use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

pub use libc::{POLLIN, POLLOUT, pollfd as PollFd};

/// The arguments after the program's own name, from C `main`'s `argc` and
/// `argv`: read here rather than through `std::env::args_os`, which without
/// a Rust `main` relies on a start-up hook that glibc has and musl does not.
/// A NULL `argv`, or an `argc` below 2, gives none; reading stops early at a
/// NULL entry.
///
/// # Safety
///
/// `argv` is NULL or holds at least `argc` pointers, each NULL or pointing
/// to a NUL-terminated string, as the C runtime passes them to `main`.
pub unsafe fn args_from_main(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<OsString> {
    let mut args = Vec::new();
    if argv.is_null() {
        return args;
    }
    for at in 1..usize::try_from(argc).unwrap_or(0) {
        // SAFETY: `at` is below `argc`, and `argv` holds `argc` pointers.
        let arg = unsafe { *argv.add(at) };
        if arg.is_null() {
            break;
        }
        // SAFETY: a non-NULL entry of `argv` is a NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(arg) }.to_bytes();
        args.push(OsString::from_vec(bytes.to_vec()));
    }
    args
}

/// execvpe(3): replaces this process with `argv[0]`, found on `PATH`, with
/// `envp` as its environment. Returns only on failure, with the reason.
pub fn execvpe(argv: &[CString], envp: &[CString]) -> io::Error {
    if argv.is_empty() {
        return io::Error::new(io::ErrorKind::InvalidInput, "no program to run");
    }
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut envp_ptrs: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envp_ptrs.push(std::ptr::null());
    // SAFETY: both arrays are NULL-terminated arrays of pointers to
    // NUL-terminated strings that live until the call returns.
    unsafe { libc::execvpe(argv_ptrs[0], argv_ptrs.as_ptr(), envp_ptrs.as_ptr()) };
    io::Error::last_os_error()
}

/// How much a syslog(3) message matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
}

/// One message to syslog(3): facility mail, `ident` as the tag, with the
/// pid. Without a syslog socket (`/dev/log`) it is dropped, as syslog(3)
/// does. The socket is closed again at once: nothing opened here may reach a
/// program this process execs.
pub fn syslog(ident: &str, level: Level, message: &str) {
    let (Ok(ident), Ok(message)) = (
        CString::new(ident),
        CString::new(message.replace('\0', "?")),
    ) else {
        return;
    };
    let level = match level {
        Level::Info => libc::LOG_INFO,
        Level::Warning => libc::LOG_WARNING,
    };
    // SAFETY: `ident` is NUL-terminated and outlives the closelog(3) below,
    // after which the C library no longer holds it.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, libc::LOG_MAIL) };
    // SAFETY: a constant "%s" format with one NUL-terminated string for it.
    unsafe { libc::syslog(level, c"%s".as_ptr(), message.as_ptr()) };
    // SAFETY: closelog(3) only closes the socket that syslog(3) opened.
    unsafe { libc::closelog() };
}

/// A `pollfd` asking for `events` on `fd`.
pub fn pollfd(fd: RawFd, events: libc::c_short) -> PollFd {
    PollFd {
        fd,
        events,
        revents: 0,
    }
}

/// poll(2) for at most `wait` (rounded up to whole milliseconds). How many
/// descriptors are ready; an interrupted call is none ready, every
/// `revents` cleared, for the caller's loop to look again.
pub fn poll(fds: &mut [PollFd], wait: Duration) -> io::Result<usize> {
    let millis = wait.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
    if rc < 0 {
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
        fds.iter_mut().for_each(|fd| fd.revents = 0);
        return Ok(0);
    }
    Ok(rc as usize)
}

/// read(2) on a descriptor this process was handed (fd 0 of a session).
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid and writable for `buf.len()` bytes.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// write(2) on a descriptor this process was handed (fd 1 of a session).
pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid and readable for `buf.len()` bytes.
    let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// shutdown(2) of the writing half of `fd`: the peer reads end of input.
/// A descriptor that is no socket (a pipe) is left as it is.
pub fn shutdown_write(fd: RawFd) {
    // SAFETY: shutdown(2) on a descriptor number; ENOTSOCK and EBADF are
    // reported, not undefined.
    unsafe { libc::shutdown(fd, libc::SHUT_WR) };
}

/// Sets `O_NONBLOCK` on `fd` (and so on every descriptor that shares its
/// open file description).
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl(2) on a descriptor number; EBADF is reported, not UB.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// SIGPIPE ignored: a write to a closed socket or pipe gives EPIPE instead
/// of ending the process.
pub fn ignore_sigpipe() {
    // SAFETY: setting a signal to SIG_IGN installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// getrandom(2) into `bytes`, from the kernel's pool: how many bytes it wrote.
pub fn getrandom(bytes: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `bytes` is a valid, writable buffer of the length given.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// One datagram into `buf`'s capacity, which is not zeroed first (zeroing
/// 64 KiB for every reply costs more than the rest of the lookup); then
/// `buf` holds the datagram.
pub fn recv_into(socket: &UdpSocket, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.clear();
    // SAFETY: `buf` owns `capacity` writable bytes at `as_mut_ptr`, and recv
    // writes at most the length it is given.
    let n = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.capacity(),
            0,
        )
    };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    // SAFETY: recv returned n ≤ capacity, and wrote those first n bytes.
    unsafe { buf.set_len(n) };
    Ok(n)
}

/// A TCP socket, non-blocking and close-on-exec, whose connect(2) to
/// `server` has started and not been waited for: std only offers blocking
/// connects.
pub fn connect_nonblocking(server: SocketAddr) -> io::Result<TcpStream> {
    // SAFETY: sockaddr_storage is plain data for which all-zero is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let (family, length) = match server {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*v4.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in>(), sin) };
            (libc::AF_INET, size_of::<libc::sockaddr_in>())
        }
        SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo().to_be(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in6>(), sin6) };
            (libc::AF_INET6, size_of::<libc::sockaddr_in6>())
        }
    };
    // SAFETY: plain socket(2) call; the descriptor is owned below.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh socket that nothing else owns; the stream closes it.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    // SAFETY: `storage` holds a valid address of `length` bytes for this family.
    let rc = unsafe {
        libc::connect(
            fd,
            (&raw const storage).cast::<libc::sockaddr>(),
            length as libc::socklen_t,
        )
    };
    if rc < 0 {
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(error);
        }
    }
    Ok(stream)
}

/// if_nametoindex(3): the index of the network interface `name`, for an
/// IPv6 scope (`fe80::1%eth0`).
pub fn interface_index(name: &str) -> Option<u32> {
    let name = CString::new(name).ok()?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (index != 0).then_some(index)
}

/// memchr(3): where `byte` first is in `bytes`. The C library's is several
/// times faster than a byte loop, and a log reader spends its time here.
pub fn memchr(bytes: &[u8], byte: u8) -> Option<usize> {
    // SAFETY: memchr(3) reads `bytes.len()` bytes from a valid slice.
    let found =
        unsafe { libc::memchr(bytes.as_ptr().cast(), libc::c_int::from(byte), bytes.len()) };
    (!found.is_null()).then(|| found as usize - bytes.as_ptr() as usize)
}

/// mktime(3): the UTC seconds of a local time (year, month 1–12, day,
/// hour), by the zone of `TZ`, with daylight saving time as the zone says.
pub fn local_time(year: i64, month: u32, day: u32, hour: u32) -> i64 {
    // SAFETY: an all-zero tm is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = (year - 1900) as libc::c_int;
    tm.tm_mon = month as libc::c_int - 1;
    tm.tm_mday = day as libc::c_int;
    tm.tm_hour = hour as libc::c_int;
    tm.tm_isdst = -1;
    // SAFETY: mktime(3) reads and normalises `tm`, and needs nothing else.
    unsafe { libc::mktime(&mut tm) as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A C argv: pointers to NUL-terminated copies of `words`, then NULL.
    fn c_argv(words: &[&[u8]]) -> (Vec<CString>, Vec<*const libc::c_char>) {
        let strings: Vec<_> = words.iter().map(|w| CString::new(*w).unwrap()).collect();
        let mut pointers: Vec<_> = strings.iter().map(|s| s.as_ptr()).collect();
        pointers.push(std::ptr::null());
        (strings, pointers)
    }

    fn os(bytes: &[u8]) -> OsString {
        OsString::from_vec(bytes.to_vec())
    }

    #[test]
    fn arguments_come_from_main() {
        // An argv of its own, unlike this test process's: what it gives
        // comes from the pointers, not from the C library's copy.
        let words: [&[u8]; 5] = [b"rmxsmtpd", b"-q", b"--", b"\xff\xfe", b""];
        let (_strings, argv) = c_argv(&words);
        // SAFETY: `argv` holds 5 pointers to live NUL-terminated strings, then NULL.
        let args = unsafe { args_from_main(5, argv.as_ptr()) };
        assert_eq!(args, words[1..].iter().map(|w| os(w)).collect::<Vec<_>>());
        // SAFETY: as above; fewer than all of them is fine too.
        let args = unsafe { args_from_main(2, argv.as_ptr()) };
        assert_eq!(args, [os(b"-q")]);
        for argc in [1, 0, -1, libc::c_int::MIN] {
            // SAFETY: as above; argc <= 1 reads nothing.
            assert!(unsafe { args_from_main(argc, argv.as_ptr()) }.is_empty());
        }
        // SAFETY: a NULL argv is never read.
        assert!(unsafe { args_from_main(3, std::ptr::null()) }.is_empty());
        // An argc past the terminating NULL stops at the NULL.
        let (_strings, argv) = c_argv(&[b"rmxsmtpd", b"prog"]);
        // SAFETY: argv holds 3 pointers: two strings and NULL; reading stops at the NULL.
        let args = unsafe { args_from_main(3, argv.as_ptr()) };
        assert_eq!(args, [os(b"prog")]);
    }

    #[test]
    fn memchr_finds_the_first() {
        assert_eq!(memchr(b"ab\ncd\n", b'\n'), Some(2));
        assert_eq!(memchr(b"abcd", b'\n'), None);
        assert_eq!(memchr(b"", b'\n'), None);
    }
}
