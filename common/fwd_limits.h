/* fwd_limits.h - the forwarder's limits and defaults that the plugin checks
 * and passes on too (site arguments in plugstack.conf, the forwarder's
 * command line): defined once, so a value the plugin accepts is one the
 * forwarder accepts.  The per-job --max-conns default the plugin gives
 * (small: a job's pvserver opens one connection, two in split mode) is the
 * plugin's own, SITE_DEFAULT_MAX_CONNS in spank/site_args.h. */
#ifndef PVF_FWD_LIMITS_H
#define PVF_FWD_LIMITS_H

#define FWD_HOLD_DEFAULT_S         60u     /* hold a client this long while the destination is down */
#define FWD_HOLD_MAX_S             86400u  /* --hold 0..this */
#define FWD_FIN_TIMEOUT_DEFAULT_S  60u     /* close a half-closed pair after this long without traffic */
#define FWD_FIN_TIMEOUT_MAX_S      86400u  /* --fin-timeout 1..this */
#define FWD_MAX_CONNS_DEFAULT      256u    /* the forwarder's own default */
#define FWD_MAX_CONNS_MAX          65536u  /* --max-conns 1..this */

#endif
