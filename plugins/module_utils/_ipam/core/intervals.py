# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""A set of integers stored as sorted, disjoint, non-touching closed intervals.

The intervals live in chunks of a few hundred, so inserting or removing one costs
a binary search plus a short ``memmove`` whatever the number of intervals: the
engine's "occupied" set keeps O(log n) operations with a million allocations.
Touching intervals are merged, so the value right after an interval is always
free: the lowest free address is one lookup away.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

_CHUNK = 256


def without(intervals, occupied_from):
    """The sorted, disjoint ``intervals`` less every value that ``occupied_from`` yields.

    ``occupied_from(value)`` yields sorted, merged intervals that end at or after ``value``
    (``IntervalSet.iter_from``, ``PoolSpace.occupied_from``): what is left of each interval
    is found by walking only the occupied ones that reach it.
    """
    for first, last in intervals:
        cursor = first
        for occupied_first, occupied_last in occupied_from(first):
            if occupied_first > last:
                break
            if occupied_first > cursor:
                yield cursor, occupied_first - 1
            cursor = max(cursor, occupied_last + 1)
            if cursor > last:
                break
        if cursor <= last:
            yield cursor, last


class IntervalSet:
    __slots__ = ('_starts', '_ends', '_heads', '_count')

    def __init__(self, intervals=()):
        self._starts = []   # list of chunks of interval starts
        self._ends = []     # parallel chunks of interval ends
        self._heads = []    # first start of each chunk
        self._count = 0
        merged = []
        for first, last in sorted(intervals):
            if merged and first <= merged[-1][1] + 1:
                if last > merged[-1][1]:
                    merged[-1][1] = last
            else:
                merged.append([first, last])
        for offset in range(0, len(merged), _CHUNK):
            chunk = merged[offset:offset + _CHUNK]
            self._starts.append([item[0] for item in chunk])
            self._ends.append([item[1] for item in chunk])
            self._heads.append(chunk[0][0])
        self._count = len(merged)

    @classmethod
    def from_points(cls, points):
        """The set of sorted int ``points``; None if a point repeats (the caller then names who holds it twice)."""
        starts, ends = [], []
        if points:
            run_start = previous = points[0]
            for value in points[1:]:
                if value == previous + 1:
                    previous = value
                    continue
                if value <= previous:
                    return None
                starts.append(run_start)
                ends.append(previous)
                run_start = previous = value
            starts.append(run_start)
            ends.append(previous)
        interval_set = cls()
        for offset in range(0, len(starts), _CHUNK):
            interval_set._starts.append(starts[offset:offset + _CHUNK])
            interval_set._ends.append(ends[offset:offset + _CHUNK])
            interval_set._heads.append(starts[offset])
        interval_set._count = len(starts)
        return interval_set

    def __len__(self):
        return self._count

    def __iter__(self):
        for starts, ends in zip(self._starts, self._ends):
            yield from zip(starts, ends)

    def __repr__(self):
        return 'IntervalSet(%r)' % list(self)

    # -- lookups ---------------------------------------------------------------

    def _locate(self, value):
        """Chunk and index of the interval with the largest start <= value, or None."""
        chunk = bisect_right(self._heads, value) - 1
        if chunk < 0:
            return None
        return chunk, bisect_right(self._starts[chunk], value) - 1

    def covering(self, value):
        """The interval that contains ``value``, or None."""
        where = self._locate(value)
        if where is None:
            return None
        chunk, index = where
        if self._ends[chunk][index] >= value:
            return self._starts[chunk][index], self._ends[chunk][index]
        return None

    def iter_from(self, value):
        """Intervals that end at or after ``value``, in ascending order."""
        where = self._locate(value)
        if where is None:
            chunk, index = 0, 0
        else:
            chunk, index = where
            if self._ends[chunk][index] < value:
                index += 1
        while chunk < len(self._starts):
            starts, ends = self._starts[chunk], self._ends[chunk]
            while index < len(starts):
                yield starts[index], ends[index]
                index += 1
            chunk, index = chunk + 1, 0

    def overlaps(self, first, last):
        for start, _end in self.iter_from(first):
            return start <= last
        return False

    # -- updates ---------------------------------------------------------------

    def _delete(self, chunk, index):
        starts, ends = self._starts[chunk], self._ends[chunk]
        del starts[index]
        del ends[index]
        self._count -= 1
        if not starts:
            del self._starts[chunk]
            del self._ends[chunk]
            del self._heads[chunk]
        elif index == 0:
            self._heads[chunk] = starts[0]

    def _insert(self, first, last):
        if not self._starts:
            self._starts.append([first])
            self._ends.append([last])
            self._heads.append(first)
            self._count = 1
            return
        chunk = max(bisect_right(self._heads, first) - 1, 0)
        starts, ends = self._starts[chunk], self._ends[chunk]
        index = bisect_left(starts, first)
        starts.insert(index, first)
        ends.insert(index, last)
        self._heads[chunk] = starts[0]
        self._count += 1
        if len(starts) > 2 * _CHUNK:
            self._starts[chunk:chunk + 1] = [starts[:_CHUNK], starts[_CHUNK:]]
            self._ends[chunk:chunk + 1] = [ends[:_CHUNK], ends[_CHUNK:]]
            self._heads[chunk:chunk + 1] = [starts[0], starts[_CHUNK]]

    def add(self, first, last):
        """Add [first, last], merging with anything it overlaps or touches."""
        while True:
            where = self._locate(last + 1)
            if where is None:
                break
            chunk, index = where
            start, end = self._starts[chunk][index], self._ends[chunk][index]
            if end < first - 1:
                break
            first, last = min(first, start), max(last, end)
            self._delete(chunk, index)
        self._insert(first, last)

    def remove(self, first, last):
        """Remove [first, last]; values in it that were not in the set are ignored."""
        while True:
            where = self._locate(last)
            if where is None:
                return
            chunk, index = where
            start, end = self._starts[chunk][index], self._ends[chunk][index]
            if end < first:
                return
            self._delete(chunk, index)
            if end > last:
                self._insert(last + 1, end)
            if start < first:
                self._insert(start, first - 1)
                return
