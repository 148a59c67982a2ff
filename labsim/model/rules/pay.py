"""Pay for a step's work: piece rates by the batch, wages by the hour, search unpaid.

Accepted crowd tasks are paid at the rate of the batch they came from, the
platform's fee on top for the requester; rejected work is unpaid, unless the
book pays it (at the rate of the batches the worker was taking). A crowd
worker's paid hours are the share of its stretch its paid tasks took; the
rest of its time online is unpaid search, and one who found nothing searches
``give_up_search_h`` and logs off for the day. Vendor staff are paid every
shift hour, worked or idle, and the vendor bills the requester the wage plus
its margin. Every flow is posted to the accounts once (``labsim.model.accounts``).
"""

from __future__ import annotations

import numpy as np

from labsim.model.accounts import _post
from labsim.model.jit import group_by, njit
from labsim.model.rules.matching import _piecewise_pay
from labsim.model.batch_passes import _take_finish
from labsim.model.units import UUSD


@njit
def settle(w, b, hours, acc, r, counts, hit, waited, decay, now, book_rate, n_c, pos, crowd_h, vendor_h, give_up_h,
            margin_rate, profit_share, toxicity, book_type, is_crowd, pays_rejections, commission, count_as, market_cell, n_types,
            n_channels, ints, times, filled, fill_hours, region, channel, main_type, wage_uusd_h, workday,
            crew_paid_h, crew_unpaid_h, crew_earn_uusd, crew_tasks, crew_rejected, crew_toxic_h, crew_hours_type,
            week_labels, cell_ints, cell_floats, market_ints, market_floats, slots):  # pragma: no cover - compiled
    """The step's takes, pay and hours, and the flows the accounts get; returns whether a batch was
    emptied.

    ``pos`` holds each online worker's place in the week's crew (``labsim.model.crew``), whose
    arrays (``region`` to ``crew_hours_type``) hold the workers' attributes and add up their
    week. Pairs and batches are both grouped by book in book order, so task k of the pairs is task k of
    the batches (``matching.piecewise_pay``): accepted crowd tasks are paid at their batch's rate,
    the platform's fee on top; vendor batches carry no per-task price (vendors pay by the hour).
    A book that pays rejected work pays it at the rate of the batches the worker was taking (its
    accepted tasks' mean rate; the book's going rate when none was accepted), its fee on top.
    Crowd workers are paid for the tasks they are paid for, their paid hours being the share of
    their stretch those tasks took; the rest of their online time is unpaid search, and one who
    found nothing searches ``give_up_h`` and logs off for the day. Vendor staff are paid every
    shift hour, and the vendor bills the wage plus its mark-up (``margin_rate`` x the wage), of
    which it keeps ``profit_share`` of the bill as profit (at most the mark-up) and spends the rest
    on overheads. Flows tied to tasks go to the
    task's cell; hours and pay not tied to a task (search, vendor shifts) to the worker's main
    task type.
    """
    n_books = is_crowd.size
    wait_h, worth, emptied = _take_finish(ints, times, counts, hit, waited, decay, filled, fill_hours, now, n_books)
    taken = np.zeros(n_books)
    prices = np.zeros((hit.size, 2), np.int64)
    batch_counts = np.empty(hit.size, np.int64)
    for j in range(hit.size):
        i = hit[j]
        batch_counts[j] = counts[i]
        if is_crowd[ints[0, i]]:
            prices[j, 0], prices[j, 1] = ints[3, i], ints[4, i]  # RATE, FEE
    pf = _piecewise_pay(acc, batch_counts, prices)
    n_pairs, m_all = w.size, pos.size
    for j in range(n_pairs):
        taken[b[j]] += acc[j]
    take_values = np.empty((3, n_books))
    for k in range(n_books):
        take_values[0, k] = wait_h[k]
        take_values[1, k] = np.rint(taken[k])
        take_values[2, k] = np.rint(worth[k] * UUSD)
    _post(market_cell, take_values, slots[0][0], slots[0][1], market_ints, market_floats, True)
    labels = np.zeros(week_labels.size)
    n_ca = count_as.shape[0]
    task_values = np.empty((6 + n_ca, n_pairs))
    pays = np.empty(n_pairs, np.int64)
    paid_pair = np.zeros(n_pairs)
    for j in range(n_pairs):
        pay, fee = pf[j, 0], pf[j, 1]
        paid_tasks = acc[j]
        if pays_rejections[b[j]]:
            rate = pay / acc[j] if acc[j] > 0 else float(book_rate[b[j]])
            rej_pay = np.int64(np.rint(r[j] * rate))
            pay, fee = pay + rej_pay, fee + np.int64(np.rint(rej_pay * commission[0, b[j]]))
            paid_tasks = acc[j] + r[j]
        n = acc[j] + r[j]
        if n > 0 and w[j] < n_c:
            paid_pair[j] = hours[j] * paid_tasks / n
        pays[j] = pay
        labels[book_type[b[j]]] += acc[j]
        task_values[0, j] = acc[j]
        task_values[1, j] = r[j]
        task_values[2, j] = paid_pair[j]
        task_values[3, j] = pay
        task_values[4, j] = pay + fee
        task_values[5, j] = fee
        for c in range(n_ca):
            task_values[6 + c, j] = acc[j] * count_as[c, b[j]]
    # Each worker's stretches in their order (the sums below add in that order), worker by worker.
    order, first = group_by(w, m_all)
    paid = np.zeros(m_all)
    worked = np.zeros(m_all)
    tasks = np.zeros(m_all)
    rejected = np.zeros(m_all)
    earn = np.zeros(m_all)
    toxic = np.zeros(m_all)
    cells = np.empty(n_pairs, np.int64)
    for i in range(m_all):
        k = pos[i]
        base = np.int64(region[k]) * n_types * n_channels + channel[k]  # the cell of task type 0
        for o in range(first[i], first[i + 1]):
            j = order[o]
            t = book_type[b[j]]
            paid[i] += paid_pair[j]
            worked[i] += hours[j]
            tasks[i] += acc[j]
            rejected[i] += r[j]
            earn[i] += pays[j]
            toxic[i] += hours[j] * toxicity[t]
            crew_hours_type[k, t] += hours[j]  # the week's hours per worker and task type
            cells[j] = base + t * n_channels
    for t in range(week_labels.size):
        week_labels[t] += labels[t]
    n_v = m_all - n_c
    unpaid = np.zeros((1, n_c))
    home = np.empty(m_all, np.int64)
    vendor_values = np.empty((5, n_v))
    for i in range(m_all):
        k = pos[i]
        home[i] = (np.int64(region[k]) * n_types + main_type[k]) * n_channels + channel[k]
        earned = np.int64(np.rint(earn[i]))
        if i < n_c:
            if worked[i] > 0:
                unpaid[0, i] = crowd_h[i] - paid[i]
            else:
                unpaid[0, i] = min(crowd_h[i], give_up_h)
                workday[k] = False
            crew_unpaid_h[k] += unpaid[0, i]
        else:
            v = i - n_c
            paid[i] = vendor_h[v]
            wage = np.int64(np.rint(vendor_h[v] * wage_uusd_h[k]))
            markup = np.int64(np.rint(wage * margin_rate))
            profit = min(np.int64(np.rint((wage + markup) * profit_share)), markup)
            earned += wage
            vendor_values[0, v] = vendor_h[v]
            vendor_values[1, v] = wage
            vendor_values[2, v] = wage + markup
            vendor_values[3, v] = profit
            vendor_values[4, v] = markup - profit
        crew_paid_h[k] += paid[i]
        crew_earn_uusd[k] += earned
        crew_tasks[k] += np.int64(np.rint(tasks[i]))
        crew_rejected[k] += np.int64(np.rint(rejected[i]))
        crew_toxic_h[k] += toxic[i]
    _post(cells, task_values, slots[1][0], slots[1][1], cell_ints, cell_floats, False)
    _post(home[:n_c], unpaid, slots[2][0], slots[2][1], cell_ints, cell_floats, False)
    if n_v:
        _post(home[n_c:], vendor_values, slots[3][0], slots[3][1], cell_ints, cell_floats, False)
    return emptied
