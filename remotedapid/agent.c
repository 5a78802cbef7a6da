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

/*
 * agent.c: the WebSocket a firewalled server keeps open to register its
 * path.  The relay checks the framing of what the agent sends, answers
 * its pings, pings it in turn (two pings unanswered: it is dead and its
 * path is freed), and writes one text frame per waiting client.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vis.h>

#include "remotedapid.h"

static void	 agent_io(int, short, void *);

static void
agent_update(struct conn *c)
{
	short	 flags = EV_READ;

	if (c->c_out.b_off < c->c_out.b_len)
		flags |= c->c_wantio ? c->c_wantio : EV_WRITE;
	if (flags != c->c_evflags)
		conn_events(c, flags, agent_io);
}

/* Queue a frame; an agent that lets too much pile up is dropped. */
static int
agent_send(struct conn *c, int opcode, const void *payload, size_t len)
{
	uint8_t	 frame[WS_HEADER_MAX + WR_NOTIFY_MAX];
	size_t	 n;

	if ((n = ws_frame(frame, sizeof(frame), WS_ROLE_SERVER, opcode,
	    payload, len)) == 0)
		return -1;
	if (conn_write(c, frame, n, RD_AGENT_OUT_MAX) == -1) {
		log_info("agent %s on %s: not reading, dropped", c->c_addr,
		    c->c_path);
		conn_free(c, 1);
		return -1;
	}
	agent_update(c);
	return 0;
}

/* Close with a code: the close frame, then the connection. */
void
agent_close(struct conn *c, int code, const char *why)
{
	uint8_t	 payload[2];
	uint8_t	 frame[WS_HEADER_MAX + 2];
	size_t	 n;

	log_info("agent %s on %s: closing (%d, %s)", c->c_addr, c->c_path,
	    code, why);
	payload[0] = code >> 8;
	payload[1] = code & 0xff;
	n = ws_frame(frame, sizeof(frame), WS_ROLE_SERVER, WS_OP_CLOSE,
	    payload, code == WS_CLOSE_NO_STATUS ? 0 : 2);
	if (conn_write(c, frame, n, RD_AGENT_OUT_MAX + sizeof(frame)) == -1) {
		conn_free(c, 1);
		return;
	}
	conn_finish(c);
}

static void
agent_ping(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	struct agent	*a = c->c_agent;
	struct timeval	 tv = { rl->r_lm.lm_ping, 0 };

	(void)fd;
	(void)event;
	if (a->a_missed >= 2) {
		log_info("agent %s on %s: two pings unanswered", c->c_addr,
		    c->c_path);
		conn_free(c, 1);
		return;
	}
	a->a_missed++;
	if (agent_send(c, WS_OP_PING, "rd", 2) == -1)
		return;
	evtimer_add(&a->a_ping, &tv);
}

/* Frames from the agent: checked, pings answered, data ignored. */
static int
agent_frames(struct conn *c, uint8_t *buf, size_t len)
{
	struct agent	*a = c->c_agent;
	struct ws_event	 ev;
	size_t		 off = 0, used;

	a->a_missed = 0;
	while (off < len) {
		ws_decode(&a->a_dec, buf + off, len - off, &used, &ev);
		off += used;
		switch (ev.we_type) {
		case WS_EV_MORE:
		case WS_EV_DATA:
		case WS_EV_PONG:
			break;
		case WS_EV_PING:
			if (agent_send(c, WS_OP_PONG, ev.we_data,
			    ev.we_len) == -1)
				return -1;
			break;
		case WS_EV_CLOSE:
			agent_close(c, ev.we_code == WS_CLOSE_NO_STATUS ?
			    WS_CLOSE_NORMAL : ev.we_code, "closed by agent");
			return -1;
		case WS_EV_ERROR:
			agent_close(c, ev.we_code, ev.we_error);
			return -1;
		}
	}
	return 0;
}

static void
agent_io(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	uint8_t		 buf[16384];
	ssize_t		 n;

	(void)fd;
	(void)event;
	/* TLS may read to write and write to read: try both each time */
	if (conn_write(c, NULL, 0, 0) == -1) {
		conn_free(c, 1);
		return;
	}
	for (;;) {
		n = conn_read(c, buf, sizeof(buf));
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
			break;
		if (n <= 0) {
			log_info("agent %s on %s: connection %s", c->c_addr,
			    c->c_path, n == 0 ? "closed" : "lost");
			conn_free(c, 1);
			return;
		}
		if (agent_frames(c, buf, n) == -1)
			return;
		if (c->c_tls == NULL && (size_t)n < sizeof(buf))
			break;
	}
	agent_update(c);
}

/* The parent gave this agent its path: 101, then keep it alive. */
void
agent_start(struct conn *c)
{
	struct agent	*a;
	struct timeval	 tv = { rl->r_lm.lm_ping, 0 };
	char		 buf[256], vpath[RD_PATH_MAX * 4 + 1];
	int		 n;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (n = ws_response_write(buf, sizeof(buf), c->c_wskey)) == -1 ||
	    conn_write(c, buf, n, RD_AGENT_OUT_MAX) == -1) {
		free(a);
		conn_free(c, 1);
		return;
	}
	c->c_agent = a;
	c->c_state = CS_AGENT;
	ws_decoder_init(&a->a_dec, WS_ROLE_SERVER, rl->r_lm.lm_max_message);
	evtimer_set(&a->a_ping, agent_ping, c);
	evtimer_add(&a->a_ping, &tv);
	log_vis(vpath, c->c_path, sizeof(vpath), VIS_SAFE | VIS_OCTAL);
	log_info("route %s registered by %s with key %s", vpath, c->c_addr,
	    c->c_key);
	/* frames that came through TLS with the head */
	if (c->c_early.b_len > c->c_early.b_off) {
		if (agent_frames(c, c->c_early.b_data + c->c_early.b_off,
		    c->c_early.b_len - c->c_early.b_off) == -1)
			return;
		buf_free(&c->c_early);
	}
	agent_update(c);
}

/* A client waits on this agent's path: one text frame tells it. */
void
agent_notify(struct conn *c, const struct wr_notify *wn)
{
	char	 json[WR_NOTIFY_MAX];
	int	 n;

	if ((n = wr_notify_write(json, sizeof(json), wn)) == -1)
		return;
	agent_send(c, WS_OP_TEXT, json, n);
}

void
agent_free(struct conn *c)
{
	evtimer_del(&c->c_agent->a_ping);
	free(c->c_agent);
	c->c_agent = NULL;
}
