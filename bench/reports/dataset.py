"""The reports benchmark's data set, made inside PostgreSQL by INSERT ... SELECT over
generate_series (no rows travel over the wire): agents, queues, customers, about N calls
over two years in time order (ids grow with started_at, as the bridge appends them), and
each agent's working days (a log-in stretch and three pauses) as the bridge records them.

Deterministic from the seed (``setseed``). Shapes: 7 queues with their own service level
thresholds; 3 hotlines; 90% of calls from customers (5% of them VIP), 8% from unknown
numbers, 2% withheld; outcomes about 82% answered, 8% abandoned (a third of them short),
3% timeout, 4% after hours, 3% unqueued; waits 0-90 s skewed short; talk 30-600 s; 5%
transferred; dispositions on 70% of answered calls; calls by hour of day weighted to
working hours."""

from __future__ import annotations

import asyncpg

QUEUES = (
    ("main", 20),
    ("support-pl", 20),
    ("support-uk", 20),
    ("support-en", 30),
    ("vip", 10),
    ("collections", 60),
    ("sales", 15),
)


async def load(
    connection: asyncpg.Connection, calls: int, agents: int, customers: int, days: int, seed: float
) -> None:
    await connection.execute("SELECT setseed($1)", seed)
    await connection.execute(
        """
        INSERT INTO users (id, username, display_name, role, interface, language, active,
                           created_at)
        SELECT n, 'agent' || n, 'Agent ' || n, 'agent', 'PJSIP/agent-' || (1000 + n), 'pl',
               true, now()
        FROM generate_series(1, $1) AS n
        """,
        agents,
    )
    await connection.executemany(
        "INSERT INTO queues (name, display_name, service_level_seconds, wrapup_seconds,"
        " opening_hours, holidays, after_hours) VALUES ($1, $1, $2, 10, '{}', '[]', 'message')",
        QUEUES,
    )
    await connection.execute(
        """
        INSERT INTO customers (id, name, tier, language, tags, notes, overdue_balance,
                               created_at, updated_at)
        SELECT n, 'Customer ' || n, CASE WHEN random() < 0.05 THEN 'vip' ELSE 'standard' END,
               'pl', '[]', '', 0, now(), now()
        FROM generate_series(1, $1) AS n
        """,
        customers,
    )
    await connection.execute(
        """
        INSERT INTO interactions (
            id, node, linkedid, uniqueid, channel, direction, customer_id, caller_number,
            caller_e164, caller_name, dialed_number, queue, agent_id, agent_interface,
            route_rule, started_at, answered_at, ended_at, wait_seconds, ring_seconds,
            talk_seconds, hold_seconds, wrapup_seconds, transfers, outcome, complete,
            disposition, subject, notes)
        SELECT n, 'node1', 'bench-' || n, 'bench-' || n, 'voice', 'inbound',
               CASE WHEN who < 0.90 THEN 1 + floor(random() * $3)::int END,
               '', CASE WHEN who >= 0.90 AND who < 0.98
                        THEN '+48' || (500000000 + floor(random() * 400000000)::bigint) END,
               '', (ARRAY['+48221000000', '+48221000001', '+48800100200'])[1 + n % 3],
               (ARRAY['main', 'support-pl', 'support-uk', 'support-en', 'vip', 'collections',
                      'sales'])[1 + floor(random() * 7)::int],
               CASE WHEN fate < 0.82 THEN 1 + floor(random() * $2)::int END,
               NULL,
               (ARRAY['known-customer', 'vip', 'language', NULL])[1 + n % 4],
               at,
               CASE WHEN fate < 0.82 THEN at + make_interval(secs => wait) END,
               at + make_interval(secs => wait + CASE WHEN fate < 0.82 THEN talk ELSE 0 END),
               CASE WHEN fate < 0.96 THEN wait END,
               CASE WHEN fate < 0.82 THEN 3 + random() * 10 END,
               CASE WHEN fate < 0.82 THEN talk END,
               CASE WHEN fate < 0.82
                    THEN (CASE WHEN random() < 0.2 THEN random() * 60 ELSE 0 END) END,
               CASE WHEN fate < 0.82 THEN 10 END,
               CASE WHEN fate < 0.82 AND random() < 0.05 THEN 1 ELSE 0 END,
               CASE WHEN fate < 0.82 THEN 'answered'
                    WHEN fate < 0.90 THEN 'abandoned'
                    WHEN fate < 0.93 THEN 'timeout'
                    WHEN fate < 0.97 THEN 'after_hours_message'
                    ELSE 'unqueued' END,
               true,
               CASE WHEN fate < 0.82 AND random() < 0.7
                    THEN (ARRAY['resolved', 'callback_needed', 'escalated', 'wrong_number',
                                'sales_opportunity'])[1 + floor(random() * 5)::int] END,
               '', ''
        FROM (
            SELECT n, random() AS who, random() AS fate,
                   CASE WHEN random() < 0.7 THEN random() * 25 ELSE random() * 90 END AS wait,
                   30 + random() * 570 AS talk,
                   timestamptz '2025-01-01 00:00:00+00'
                     + make_interval(days => ((n - 1)::bigint * $4 / $1)::int)
                     + make_interval(secs => 6 * 3600 + (((n - 1)::bigint * $4 * 86400 / $1)
                                                         % 86400) * 14 / 24.0) AS at
            FROM generate_series(1, $1) AS n
        ) AS call
        """,
        calls,
        agents,
        customers,
        days,
    )
    await connection.execute(
        """
        INSERT INTO agent_periods (node, agent_interface, user_id, kind, reason, started_at,
                                   ended_at)
        SELECT 'node1', 'PJSIP/agent-' || (1000 + agent), agent, kind, reason,
               day + start_hour * interval '1 hour',
               day + (start_hour + hours) * interval '1 hour'
        FROM generate_series(1, $1) AS agent,
             generate_series(timestamptz '2025-01-01 00:00:00+00',
                             timestamptz '2025-01-01 00:00:00+00' + ($2 - 1) * interval '1 day',
                             interval '1 day') AS day,
             (VALUES ('logged_in', '', 7.0, 8.0), ('paused', 'Break', 10.0, 0.25),
                     ('paused', 'Lunch', 12.0, 0.5), ('paused', 'Back office', 14.0, 0.75))
                AS part(kind, reason, start_hour, hours)
        """,
        agents,
        days,
    )
    await connection.execute("SELECT setval('interactions_id_seq', $1)", calls)
    await connection.execute("ANALYZE")
