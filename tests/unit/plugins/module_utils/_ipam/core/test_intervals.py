# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.intervals import IntervalSet


def members(interval_set):
    return {value for first, last in interval_set for value in range(first, last + 1)}


def test_merges_touching_and_overlapping():
    interval_set = IntervalSet([(5, 6), (1, 2), (3, 4), (10, 12), (11, 15)])
    assert list(interval_set) == [(1, 6), (10, 15)]
    interval_set.add(7, 9)
    assert list(interval_set) == [(1, 15)]
    interval_set.remove(4, 4)
    assert list(interval_set) == [(1, 3), (5, 15)]
    assert interval_set.covering(4) is None and interval_set.covering(5) == (5, 15)
    assert list(interval_set.iter_from(4)) == [(5, 15)]


operations = st.lists(st.tuples(st.booleans(), st.integers(0, 3000), st.integers(0, 40)), max_size=400)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_agrees_with_a_python_set_across_chunk_splits(steps):
    interval_set = IntervalSet()
    model = set()
    for adding, first, length in steps:
        last = first + length
        if adding:
            interval_set.add(first, last)
            model.update(range(first, last + 1))
        else:
            interval_set.remove(first, last)
            model.difference_update(range(first, last + 1))
    assert members(interval_set) == model
    ordered = list(interval_set)
    assert all(previous[1] + 1 < following[0] for previous, following in zip(ordered, ordered[1:]))
    assert len(interval_set) == len(ordered)
    for probe in (0, 17, 1500, 3040):
        covering = interval_set.covering(probe)
        assert (covering is not None) == (probe in model)


def test_many_disjoint_intervals_split_into_chunks():
    interval_set = IntervalSet()
    for value in range(0, 20000, 2):
        interval_set.add(value, value)
    assert len(interval_set) == 10000
    for value in range(1, 20000, 2):
        interval_set.add(value, value)
    assert list(interval_set) == [(0, 19999)]


@given(st.lists(st.integers(0, 300), max_size=200))
def test_from_points_equals_the_general_constructor(points):
    ordered = sorted(points)
    built = IntervalSet.from_points(ordered)
    if len(set(points)) != len(points):
        assert built is None
    else:
        assert list(built) == list(IntervalSet((value, value) for value in points))
