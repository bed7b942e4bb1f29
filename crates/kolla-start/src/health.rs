//! The healthchecks kolla-ansible wires into containers, under kolla's names and arguments.
//!
//! * `healthcheck_curl [OPTIONS] URL`: an HTTP/1.1 GET with curl's exit contract as kolla
//!   uses it: 0 when a status line arrives with a code below 400 (redirects are not followed),
//!   1 otherwise. A write-out line (`HEALTHCHECK_CURL_WRITE_OUT`, default
//!   `\n%{http_code} %{remote_ip}:%{remote_port} %{time_total} seconds\n`) goes to stdout.
//!   `http://` only: there is no TLS in this binary, so an `https://` URL fails with a message
//!   saying so rather than pretending. Host names are resolved from IP literals,
//!   `localhost` and `/etc/hosts` (a static binary has no NSS/DNS).
//! * `healthcheck_port PROCESS PORT…`: a process whose command line matches the regex
//!   PROCESS (as `pgrep -f`) owns a connected TCP socket whose local or remote port is one of
//!   PORT. kolla greps `ss -ntp` output with an unanchored regex, so `:5672` also matched
//!   `:56720`; ports here match exactly.
//! * `healthcheck_listen PROCESS PORT…`: such a process listens (TCP) or is bound (UDP) on one
//!   of PORT.
//!
//! The socket checks read `/proc/net/{tcp,tcp6,udp,udp6}` and `/proc/<pid>/fd`, so neither
//! `ss` nor `pgrep` is needed. Exit: 0 found, 1 not found, 2 bad arguments.
//!
//! The socket checks (`sockets`) and the HTTP check (`curl`) share nothing but their exit
//! contract; `net` holds what a static binary without libc's resolver or curl needs to speak
//! HTTP at all (URLs, `/etc/hosts`, base64), pure functions tested without a network.

mod curl;
mod net;
mod sockets;

pub use curl::{curl, parse_curl_args, write_out_text, CurlArgs};
pub use net::{base64, parse_url, resolve};
pub use sockets::{parse_proc_net, sockets, Mode, Socket};
