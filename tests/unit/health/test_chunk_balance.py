"""How a run's customers are split among the long queue's workers (health.engine), without frappe."""

from hypothesis import given
from hypothesis import strategies as st

from customer_success.health import engine


def loads(sizes: list[int], workers: int) -> list[int]:
	"""What each worker takes when they pull the chunks in order, each the next as it finishes one
	(a chunk's time taken as its size)."""
	done = [0] * workers
	for size in sizes:
		done[done.index(min(done))] += size
	return done


def test_a_100k_book_on_two_workers_is_26_chunks_not_25():
	sizes = engine.balanced_chunk_sizes(100_000, 2, 4000)
	assert len(sizes) == 26
	assert sum(sizes) == 100_000
	assert set(sizes) == {3846, 3847}
	assert loads(sizes, 2) == [50_000, 50_000]
	assert loads([4000] * 25, 2) == [52_000, 48_000]  # as before: one worker ran the last alone


def test_already_even_or_one_worker_or_one_chunk_keeps_the_chunks():
	assert engine.balanced_chunk_sizes(1_000_000, 2, 4000) is None  # 250 chunks of 4,000
	assert engine.balanced_chunk_sizes(8_000, 2, 4000) is None
	assert engine.balanced_chunk_sizes(100_000, 1, 4000) is None
	assert engine.balanced_chunk_sizes(100_000, 0, 4000) is None
	assert engine.balanced_chunk_sizes(3_000, 4, 4000) is None


def test_a_count_that_divides_but_a_last_chunk_that_is_small_is_split_again():
	# 100,001 customers: 25 chunks of 4,000 and one of 1, 26 in all: 52,000 against 48,001
	sizes = engine.balanced_chunk_sizes(100_001, 2, 4000)
	assert len(sizes) == 26 and sum(sizes) == 100_001 and max(sizes) - min(sizes) <= 1
	assert max(loads(sizes, 2)) - min(loads(sizes, 2)) <= 1


def test_small_books():
	assert engine.balanced_chunk_sizes(13, 2, 5) == [4, 3, 3, 3]
	assert engine.balanced_chunk_sizes(11, 2, 5) == [3, 3, 3, 2]
	assert engine.balanced_chunk_sizes(5, 64, 2) == [1, 1, 1, 1, 1]  # never an empty chunk


def test_a_million_on_eight_workers():
	sizes = engine.balanced_chunk_sizes(1_000_000, 8, 4000)
	assert len(sizes) == 256 and sum(sizes) == 1_000_000 and set(sizes) == {3906, 3907}


@given(st.integers(1, 2_000_000), st.integers(0, 64), st.integers(1, 10_000))
def test_every_customer_once_none_larger_than_the_most_and_a_multiple_of_the_workers(
	customers, workers, most
):
	sizes = engine.balanced_chunk_sizes(customers, workers, most)
	if sizes is None:
		# chunks of `most` already share the work evenly
		plain = -(-customers // most)
		assert workers <= 1 or plain == 1 or (customers % most == 0 and plain % workers == 0)
		return
	assert sum(sizes) == customers
	assert min(sizes) >= 1 and max(sizes) <= most
	assert max(sizes) - min(sizes) <= 1
	assert sorted(sizes, reverse=True) == sizes  # the larger first
	plain = -(-customers // most)
	target = -(-plain // workers) * workers
	assert len(sizes) == min(target, customers)
	if customers >= target:
		assert len(sizes) % workers == 0
