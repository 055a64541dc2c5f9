"""The chain outwards: the Deelnemerslijst and the Schooladviezenlijst to the test provider."""
