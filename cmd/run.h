/*
 * run.h: what cmd/run.c (the runner: lock, Lease, deadlines, output)
 * shares with cmd/run-steps.c (the steps of a pass, each run in a child
 * process of its own, which hand what they did back as event lines).
 */
#ifndef SRE_CMD_RUN_H
#define SRE_CMD_RUN_H

/* What a step is told of its pass. */
struct run_pass {
	int standby;            /* another holds the Lease: look, write nothing */
	int steps_failed;       /* steps of this pass that failed so far */
};

struct run_step {
	const char *name;
	int (*fn)(const struct run_pass *p); /* in the child, through run_step_call(): 0 or -1 */
	int standby;            /* also run by a replica that does not hold the Lease */
};

/* scout, diagnose, fix, escalate, remember, sync: a pass, in order. */
extern const struct run_step run_steps[];
extern const size_t run_steps_nr;
/* After them: the heartbeat, which says whether a step failed. */
extern const struct run_step run_heartbeat;

/*
 * Run step s of pass p, in the child: its events go to fd, one JSON
 * object a line ({"event", "incident", "message"}). 0 or -1.
 */
int run_step_call(const struct run_step *s, const struct run_pass *p, int fd);

#endif
