"""Parents' accompanied meals (家长陪餐): slots, sign-ups, ratings and the school's answers."""
