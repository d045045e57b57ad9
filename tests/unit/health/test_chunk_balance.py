"""How a run's customers are split among the long queue's workers (health.engine), without frappe."""

from hypothesis import given
from hypothesis import strategies as st

from customer_success.health import engine


def chunk_count(customers: int, size: int) -> int:
	return -(-customers // size)


def test_a_100k_book_on_two_workers_is_26_chunks_not_25():
	size = engine.balanced_chunk_size(100_000, 2, 4000)
	assert size == 3847
	assert chunk_count(100_000, size) == 26


def test_already_even_or_one_worker_or_one_chunk_keeps_the_size():
	assert engine.balanced_chunk_size(1_000_000, 2, 4000) == 4000  # 250 chunks
	assert engine.balanced_chunk_size(100_000, 1, 4000) == 4000
	assert engine.balanced_chunk_size(100_000, 0, 4000) == 4000
	assert engine.balanced_chunk_size(3_000, 4, 4000) == 4000
	assert engine.balanced_chunk_size(8_000, 2, 4000) == 4000


def test_four_workers():
	size = engine.balanced_chunk_size(100_000, 4, 4000)
	assert chunk_count(100_000, size) == 28


@given(st.integers(1, 2_000_000), st.integers(0, 64), st.integers(1, 10_000))
def test_never_larger_than_the_most_and_a_multiple_of_the_workers(customers, workers, most):
	size = engine.balanced_chunk_size(customers, workers, most)
	assert 1 <= size <= most
	chunks = chunk_count(customers, size)
	plain = chunk_count(customers, most)
	if workers <= 1 or plain == 1:
		assert size == most
		return
	# the fewest chunks that are a multiple of the workers; equal sizes but the last, so on a tiny
	# book (fewer customers than target * (target - 1)) the count can fall short of the target
	target = -(-plain // workers) * workers
	assert chunks <= target
	if customers > target * (target - 1):
		assert chunks == target
		assert chunks % workers == 0
