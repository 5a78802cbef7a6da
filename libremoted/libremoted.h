/*
 * Copyright (c) 2026 The remotedapid authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/* libremoted.h: the protocol core shared by the daemon, tools and tests */

#ifndef LIBREMOTED_H
#define LIBREMOTED_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define RD_VERSION		"0.1"
#define RD_DEFAULT_PORT		37791

/* digest.c */
#define DIGEST_SHA1_LEN		20
#define DIGEST_SHA256_LEN	32
#define DIGEST_B64_SHA1_LEN	28	/* base64 of a SHA-1, without NUL */

void	 digest_sha1(const void *, size_t, const void *, size_t, uint8_t *);
void	 digest_sha256(const void *, size_t, uint8_t *);
void	 digest_hex(const uint8_t *, size_t, char *);
int	 digest_unhex(const char *, uint8_t *, size_t);
int	 digest_b64_encode(const uint8_t *, size_t, char *, size_t);
int	 digest_b64_decode(const char *, uint8_t *, size_t);
int	 digest_equal(const void *, const void *, size_t);

/* http.c */
#define HTTP_HEAD_MAX		16384	/* the whole head, terminators too */
#define HTTP_LINE_MAX		8192	/* one line, without its terminator */
#define HTTP_HEADERS_MAX	64

enum http_kind {
	HTTP_REQUEST,
	HTTP_RESPONSE
};

enum http_result {
	HTTP_MORE,		/* every byte consumed, the head goes on */
	HTTP_DONE,		/* head complete; *used says where it ended */
	HTTP_ERROR		/* hp_status and hp_error say why */
};

struct http_header {
	char		*hh_name;
	char		*hh_value;	/* without surrounding white space */
};

struct http_parser {
	enum http_kind	 hp_kind;
	int		 hp_state;
	int		 hp_status;	/* on error: 400, 414 or 431 */
	const char	*hp_error;	/* on error: what was wrong */
	size_t		 hp_total;	/* bytes of the head so far */
	size_t		 hp_len;	/* bytes kept in hp_buf */
	size_t		 hp_line;	/* where the current line starts */
	int		 hp_cr;		/* the last byte was a CR */

	/* The result, pointing into hp_buf. */
	char		*hp_method;	/* request */
	char		*hp_target;
	char		*hp_version;
	int		 hp_code;	/* response */
	char		*hp_reason;
	struct http_header hp_hdrs[HTTP_HEADERS_MAX];
	size_t		 hp_nhdrs;

	char		 hp_buf[HTTP_HEAD_MAX + 1];
};

void		 http_init(struct http_parser *, enum http_kind);
enum http_result http_parse(struct http_parser *, const void *, size_t,
		    size_t *);
const char	*http_get(const struct http_parser *, const char *);
size_t		 http_count(const struct http_parser *, const char *);
int		 http_join(const struct http_parser *, const char *, char *,
		    size_t);
int		 http_has_token(const char *, const char *);

/* The answers of PROTOCOL.md, each a complete response with a JSON body. */
enum http_answer {
	ANS_NONE = 0,
	ANS_BAD_REQUEST,	/* 400 bad_request: a malformed head */
	ANS_INVALID_REQUEST,	/* 400 invalid_request */
	ANS_FORBIDDEN,		/* 403 invalid_missing_apikey */
	ANS_METHOD,		/* 405 method_not_allowed */
	ANS_TIMEOUT,		/* 408 request_timeout */
	ANS_PATH_IN_USE,	/* 409 path_in_use */
	ANS_URI_TOO_LONG,	/* 414 uri_too_long */
	ANS_WS_VERSION,		/* 426 + Sec-WebSocket-Version: 13 */
	ANS_WR_VERSION,		/* 426 + WebRoute-Version: 1 */
	ANS_TOO_LARGE,		/* 431 headers_too_large */
	ANS_NO_DESTINATION,	/* 502 missing_destination */
	ANS_GATEWAY_TIMEOUT,	/* 504 gateway_timeout */
	ANS_MAX
};

#define HTTP_ANSWER_MAX		512	/* the longest answer fits */

size_t		 http_answer(enum http_answer, char *, size_t);
int		 http_answer_status(enum http_answer);
const char	*http_answer_code(enum http_answer);
const char	*http_answer_text(enum http_answer);
enum http_answer http_answer_from_status(int);

/* websocket.c */
#define WS_GUID			"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN		24	/* base64 of 16 bytes */
#define WS_CONTROL_MAX		125
#define WS_HEADER_MAX		14

enum ws_role {
	WS_ROLE_SERVER,		/* frames in must be masked, out unmasked */
	WS_ROLE_CLIENT		/* frames in must be unmasked, out masked */
};

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa
};

enum ws_close {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_NO_STATUS = 1005,
	WS_CLOSE_BAD_DATA = 1007,
	WS_CLOSE_TOO_BIG = 1009
};

enum ws_event_type {
	WS_EV_MORE,		/* every byte consumed */
	WS_EV_DATA,		/* a piece of a data message */
	WS_EV_PING,
	WS_EV_PONG,
	WS_EV_CLOSE,
	WS_EV_ERROR		/* we_code is the close code to send */
};

struct ws_event {
	enum ws_event_type	 we_type;
	int			 we_opcode;	/* DATA: text or binary */
	int			 we_fin;	/* DATA: last piece */
	const uint8_t		*we_data;
	size_t			 we_len;
	int			 we_code;	/* CLOSE: received; ERROR: to send */
	const char		*we_error;	/* ERROR: what was wrong */
};

struct ws_decoder {
	enum ws_role	 wd_role;
	uint64_t	 wd_maxmsg;
	int		 wd_failed;
	/* the frame header being read */
	uint8_t		 wd_hdr[WS_HEADER_MAX];
	size_t		 wd_hdrlen;
	/* the frame whose payload is being read */
	int		 wd_opcode;
	int		 wd_fin;
	int		 wd_inframe;
	uint64_t	 wd_left;
	uint8_t		 wd_mask[4];
	int		 wd_masked;
	size_t		 wd_maskpos;
	/* the data message in progress */
	int		 wd_msgop;
	uint64_t	 wd_msglen;
	uint32_t	 wd_utf8;	/* validator state */
	/* a control frame's payload, gathered whole */
	uint8_t		 wd_ctl[WS_CONTROL_MAX];
	size_t		 wd_ctllen;
};

void		 ws_decoder_init(struct ws_decoder *, enum ws_role, uint64_t);
enum ws_event_type ws_decode(struct ws_decoder *, uint8_t *, size_t, size_t *,
		    struct ws_event *);
size_t		 ws_header(uint8_t *, int, int, uint64_t, const uint8_t *);
size_t		 ws_frame(uint8_t *, size_t, enum ws_role, int, const void *,
		    size_t);
void		 ws_mask(uint8_t *, size_t, const uint8_t *, size_t);
int		 ws_close_code_valid(int);
void		 ws_key_generate(char *);
int		 ws_key_valid(const char *);
void		 ws_accept_key(const char *, char *);
int		 ws_utf8_valid(const uint8_t *, size_t);

/* webroute.c */
#define WR_GUID			"BE7204BD-47E6-49EE-9B0D-016E370644B2"
#define WR_ID_MAX		128
#define WR_ID_GENLEN		64
#define WR_IPADDR_MAX		64	/* "[v6]:port" and a NUL */
#define WR_NOTIFY_MAX		(WR_ID_MAX * 6 + WR_IPADDR_MAX + 64)

struct wr_notify {
	char		 wn_ipaddr[WR_IPADDR_MAX];
	char		 wn_id[WR_ID_MAX + 1];
	int		 wn_timeout;
};

/* What a client or server puts in its upgrade request. */
struct wr_request {
	const char	*wq_host;	/* Host header: host[:port] */
	const char	*wq_path;	/* path and query */
	const char	*wq_key;	/* X-Remoted-APIKey, or NULL */
	const char	*wq_id;		/* WebRoute-ID (WebRoute only) */
	int		 wq_timeout;	/* WebRoute-Timeout, 0: none */
	const char	*wq_wskey;	/* Sec-WebSocket-Key (WebSocket only) */
	const char	*wq_origin;	/* Origin (WebSocket only) */
};

int		 wr_id_valid(const char *);
void		 wr_id_generate(char *);
void		 wr_accept_key(const char *, char *);
int		 wr_request_write(char *, size_t, const struct wr_request *);
int		 ws_request_write(char *, size_t, const struct wr_request *);
int		 wr_response_write(char *, size_t, const char *);
int		 ws_response_write(char *, size_t, const char *);
const char	*wr_response_check(const struct http_parser *, const char *);
const char	*ws_response_check(const struct http_parser *, const char *);
int		 wr_notify_write(char *, size_t, const struct wr_notify *);
int		 wr_notify_parse(const char *, size_t, struct wr_notify *);
int		 wr_ipaddr(const struct sockaddr *, char *, size_t);

/*
 * rules.c: the request-head rules of PROTOCOL.md, in order.  A relay
 * child applies the local steps (rules_head, then rules_local once the
 * key is known); what needs the route and waiting tables is decided by
 * the parent with rules_remote.
 */
enum rules_kind {
	RULES_OTHER,
	RULES_WEBSOCKET,
	RULES_WEBROUTE
};

enum rules_role {
	RULES_NOKEY,		/* no key, or none that may serve this path */
	RULES_SERVER,
	RULES_CLIENT
};

enum rules_ask {
	RULES_ASK_NONE,		/* answered locally: rv_answer */
	RULES_ASK_WAIT,		/* client: is there a route, a duplicate? */
	RULES_ASK_REGISTER,	/* server WebSocket: is the path free? */
	RULES_ASK_LINK		/* server WebRoute: does a client wait? */
};

struct rules_head {
	char		*rh_path;	/* target path, no query, NUL-ended */
	const char	*rh_key;	/* X-Remoted-APIKey or NULL */
	const char	*rh_method;
	enum rules_kind	 rh_kind;
	const char	*rh_id;		/* WebRoute-ID or NULL */
	const char	*rh_timeout;	/* WebRoute-Timeout or NULL */
	const char	*rh_wskey;	/* Sec-WebSocket-Key or NULL */
	const char	*rh_xff;	/* X-Forwarded-For or NULL */
	const char	*rh_realip;	/* X-Real-IP or NULL */
};

struct rules_verdict {
	enum rules_ask	 rv_ask;
	enum http_answer rv_answer;	/* ASK_WAIT: what to answer if the
					   route exists (ANS_NONE: wait) */
};

enum http_answer rules_head(struct http_parser *, struct rules_head *);
int		 rules_path_valid(const char *);
void		 rules_local(const struct http_parser *,
		    const struct rules_head *, enum rules_role,
		    struct rules_verdict *);
enum http_answer rules_remote(enum rules_ask, enum http_answer, int, int);
int		 rules_timeout(const char *, int, int);

/* url.c */
#define URL_KEY_MAX		1024
#define URL_HOST_MAX		256
#define URL_PATH_MAX		4096
#define URL_CHAIN_MAX		8

enum url_scheme {
	URL_RWS, URL_RWSS, URL_RWR, URL_RWRS,
	URL_WS, URL_WSS, URL_WR, URL_WRS,
	URL_HTTP, URL_HTTPS
};

struct url {
	enum url_scheme	 u_scheme;
	int		 u_tls;
	char		 u_key[URL_KEY_MAX];	/* percent-decoded userinfo */
	char		 u_host[URL_HOST_MAX];	/* no brackets */
	int		 u_ipv6;
	uint16_t	 u_port;
	char		 u_path[URL_PATH_MAX];	/* path and query */
};

int		 url_parse(const char *, size_t, struct url *, const char **);
int		 url_chain(const char *, struct url *, size_t, size_t *,
		    const char **);
const char	*url_scheme_name(enum url_scheme);
int		 url_hostport(const struct url *, char *, size_t);

/* msg.c: imsg-like messages over a SOCK_SEQPACKET socket, fds passed */
#define MSG_VERSION		1
#define MSG_MAXPAYLOAD		16384
#define MSG_XFER_MAX		(16 * 1024 * 1024)	/* a framed transfer */
#define MSG_FLAG_FD		0x0001

/* Message types 1-15 belong to msg.c; users number theirs from 16. */
enum msg_base_type {
	MSG_XFER_START = 1,
	MSG_XFER_CHUNK,
	MSG_XFER_END,
	MSG_USER = 16
};

struct msg_hdr {
	uint32_t	 mh_type;
	uint16_t	 mh_len;	/* payload bytes */
	uint16_t	 mh_flags;
	uint32_t	 mh_peerid;
	uint32_t	 mh_pid;
};

struct msg {
	struct msg_hdr	 m_hdr;
	uint8_t		*m_data;	/* into the channel's buffer */
	int		 m_fd;		/* -1 unless MSG_FLAG_FD */
	int		 m_fdlost;	/* one was sent; we had no room for it */
};

struct msg_out {
	TAILQ_ENTRY(msg_out)	 mo_entry;
	struct msg_hdr		 mo_hdr;
	int			 mo_fd;
	uint8_t			 mo_data[];
};

struct msg_chan {
	int			 mc_fd;
	TAILQ_HEAD(, msg_out)	 mc_out;
	size_t			 mc_queued;
	uint8_t			 mc_in[sizeof(struct msg_hdr) +
				     MSG_MAXPAYLOAD];
};

struct msg_xfer {
	uint32_t	 mx_type;	/* the type the transfer carries */
	uint8_t		*mx_buf;
	size_t		 mx_len;
	size_t		 mx_total;
	int		 mx_active;
};

void	 msg_init(struct msg_chan *, int);
void	 msg_clear(struct msg_chan *);
int	 msg_compose(struct msg_chan *, uint32_t, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 msg_compose_large(struct msg_chan *, uint32_t, uint32_t,
	    const void *, size_t);
int	 msg_flush(struct msg_chan *);
int	 msg_flush_wait(struct msg_chan *, int);
int	 msg_read(struct msg_chan *, struct msg *);
int	 msg_read_wait(struct msg_chan *, struct msg *, int);
int	 msg_decode(uint8_t *, size_t, int, struct msg *);
int	 msg_get(const struct msg *, void *, size_t);
int	 msg_xfer_feed(struct msg_xfer *, const struct msg *);
void	 msg_xfer_clear(struct msg_xfer *);

#endif /* LIBREMOTED_H */
