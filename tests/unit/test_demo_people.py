from server.demo.people import candidates, check_digit


def test_check_digit_of_the_standards_own_example():
    # GB 11643-1999's worked example: 11010519491231002X
    assert check_digit("11010519491231002") == "X"


def test_demo_candidates_have_valid_unique_id_numbers():
    people = candidates(30)
    assert len({name for name, _ in people}) == 30
    for _, number in people:
        assert len(number) == 18
        assert number[-1] == check_digit(number[:17])
    assert len({number for _, number in people}) == 30
