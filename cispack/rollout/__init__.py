"""The organisation rollout: the StackSet that deploys the member template to every account and
region of an OU, its updates and removal, and the same on the local AWS. May import the catalogue,
code distribution and the generated templates; never the command line."""
