/*/* sluice:ignore drop-table */ nested */ -- sluice:ignore é,ü​
